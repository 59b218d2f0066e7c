//! Fuzz target `lint`: see `mountfuzz::fuzzing::lint`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mountfuzz::fuzzing::lint(data));
