#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vecsql_fuzz::checks::shadow(data);
});
