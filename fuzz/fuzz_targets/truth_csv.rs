//! The `crosswalk eval` truth reader on arbitrary bytes: no panic, every row it returns has a
//! source id, and the lines it gives its rows only grow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rows) = crosswalk_synth::read_truth_csv_lines(data) {
        assert!(rows.iter().all(|(_, row)| !row.source_id.is_empty()));
        assert!(rows.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }
});
