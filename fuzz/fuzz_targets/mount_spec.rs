//! Fuzz target `mount_spec`: see `mountfuzz::fuzzing::mount_spec`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mountfuzz::fuzzing::mount_spec(data));
