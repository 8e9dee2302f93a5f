//! The peer tools' mapping-file readers (`crosswalk_formats::peer_maps`: SPMT, ShareGate,
//! Mover, Movebot, DryvIQ, JCMA...) on arbitrary bytes, the first byte picking the format: no
//! panic, every rule has a source and a destination, and a refusal names at least one row.
#![no_main]

use crosswalk_formats::peer_maps::{PeerFormat, read_peer_map};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let format = PeerFormat::ALL[usize::from(pick) % PeerFormat::ALL.len()];
    match read_peer_map(format, "fuzz.csv", bytes) {
        Ok(read) => {
            for rule in read.rules {
                assert!(!rule.source.value().is_empty() && !rule.destination.value().is_empty());
            }
        }
        Err(problems) => assert!(!problems.is_empty()),
    }
});
