//! The platform-export readers (`crosswalk_formats::exports`) on arbitrary bytes, with the
//! encoding, delimiter and format detection in front of them: no panic, and whatever is
//! accepted passes the core's own directory check. The first byte picks a hint.
#![no_main]

use crosswalk_formats::ReadOptions;
use crosswalk_formats::exports::{ExportFormat, SourceHint, read_csv_directory};
use crosswalk_formats::text::Encoding;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let format = ExportFormat::ALL.get(usize::from(pick & 0x0F)).copied();
    let encoding = [Encoding::Utf8, Encoding::Utf16Le, Encoding::Utf16Be, Encoding::Windows1252].get(usize::from(pick >> 4)).copied();
    for options in [ReadOptions::default(), ReadOptions::skipping_invalid()] {
        if let Ok(imported) = read_csv_directory("fuzz.csv", bytes, SourceHint { format, encoding }, options) {
            assert!(imported.directory.check().is_ok());
        }
    }
});
