#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vecsql_fuzz_checks::shadow(data);
});
