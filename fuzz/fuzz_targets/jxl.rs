//! The JPEG XL decoder (jxl-oxide, whole or by regions) on hostile bytes, memory and time
//! bounded (see common.rs).
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::run(data, thumbnail_core::InputFormat::Jxl));
