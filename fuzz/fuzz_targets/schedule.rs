//! Fuzz target `schedule`: see `mountfuzz::fuzzing::schedule`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mountfuzz::fuzzing::schedule(data));
