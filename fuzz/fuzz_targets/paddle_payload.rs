#![no_main]
// Driven by libFuzzer; the target and its checks live in faurya::fuzz_targets.
libfuzzer_sys::fuzz_target!(|data: &[u8]| faurya::fuzz_targets::paddle_payload(data));
