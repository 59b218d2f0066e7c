//! Fuzz target `containerfile`: see `mountfuzz::fuzzing::containerfile`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mountfuzz::fuzzing::containerfile(data));
