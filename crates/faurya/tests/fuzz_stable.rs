//! The fuzz targets (`faurya::fuzz_targets`) on the stable toolchain: first every file of the
//! checked-in corpus (`fuzz/corpus/<target>/`: seeds, and every input that ever crashed a target,
//! kept as a regression case), then random inputs and random mutations of the seeds through
//! proptest. `FUZZ_CASES` sets how many per target (default 2,000: seconds in `make test`);
//! cargo-fuzz runs the same targets coverage-guided on nightly (`make fuzz`).
//!
//! Also the property tests: amounts read back exactly, and the channel table is total.

use std::path::PathBuf;

use faurya::fuzz_targets::{TARGETS, render_minor};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target)
}

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| (path.file_name().unwrap().to_string_lossy().to_string(), std::fs::read(&path).unwrap()))
        .collect();
    files.sort();
    files
}

fn cases() -> u32 {
    std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
}

#[test]
fn every_target_has_a_corpus_and_survives_it() {
    for (target, run) in TARGETS {
        let files = corpus(target);
        assert!(!files.is_empty(), "{target}: no seeds in {}", corpus_dir(target).display());
        for (name, data) in files {
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: corpus file {name} panics");
        }
    }
}

/// Random bytes, and seeds with random bytes overwritten, inserted and cut.
fn inputs(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let random = prop::collection::vec(any::<u8>(), 0..1024);
    let mutated = (prop::sample::select(seeds), prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..12))
        .prop_map(|(mut seed, edits)| {
            for (at, byte, kind) in edits {
                let at = if seed.is_empty() { 0 } else { at % (seed.len() + 1) };
                match kind {
                    0 if at < seed.len() => seed[at] = byte,
                    1 => seed.insert(at, byte),
                    _ => seed.truncate(at),
                }
            }
            seed
        });
    prop_oneof![1 => random, 3 => mutated]
}

#[test]
fn every_target_survives_random_and_mutated_input() {
    for (target, run) in TARGETS {
        let seeds: Vec<Vec<u8>> = corpus(target).into_iter().map(|(_, data)| data).collect();
        let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
        let result = runner.run(&inputs(seeds), |data| {
            run(&data);
            Ok(())
        });
        if let Err(failure) = result {
            panic!(
                "{target}: {failure}\nAdd the minimal input to fuzz/corpus/{target}/ as a regression case once fixed."
            );
        }
    }
}

proptest! {
    #![proptest_config(Config { cases: 2_000, failure_persistence: None, ..Config::default() })]

    /// Any amount in minor units, written as the decimal a provider would send, reads back the
    /// same: with trailing zeros too, and never with a digit beyond the currency's places.
    #[test]
    fn amounts_read_back_exactly(minor in any::<i64>(), currency in prop::sample::select(vec!["USD", "JPY", "KWD", "EUR", "CLP", "BHD"])) {
        let places = faurya::money::exponent(currency).unwrap();
        let text = render_minor(minor, places);
        prop_assert_eq!(faurya::money::decimal_to_minor(&text, currency).ok(), Some(minor), "{}", text);
        let padded = if places == 0 { format!("{text}.000") } else { format!("{text}000") };
        prop_assert_eq!(faurya::money::decimal_to_minor(&padded, currency).ok(), Some(minor), "{}", padded);
        if minor != 0 {
            let sep = if places == 0 { "." } else { "" };
            let too_precise = format!("{text}{sep}1");
            prop_assert!(faurya::money::decimal_to_minor(&too_precise, currency).is_err(), "{}", too_precise);
        }
        prop_assert_eq!(faurya::money::integer_minor(&minor.to_string()).ok(), Some(minor));
    }

    /// The channel table is total: any entry gets exactly one channel, the same every time, and
    /// whose name names it.
    #[test]
    fn the_channel_table_is_total(
        source in prop::option::of(prop_oneof![Just("Google".to_string()), Just("Facebook".to_string()), Just("ChatGPT".to_string()), ".{0,20}"]),
        utm_source in prop::option::of(".{0,20}"),
        utm_medium in prop::option::of(prop_oneof![Just("cpc".to_string()), Just("email".to_string()), Just("paid_social".to_string()), ".{0,12}"]),
        utm_campaign in prop::option::of(prop_oneof![Just("shopping_spring".to_string()), ".{0,20}"]),
        referrer_host in prop::option::of("[a-z.]{0,20}"),
    ) {
        use faurya::tracking::{channel, source::Entry};
        let entry = Entry { source, utm_source, utm_medium, utm_campaign, referrer_host, ..Entry::default() };
        let first = channel::classify(&entry);
        prop_assert_eq!(channel::classify(&entry), first);
        prop_assert_eq!(channel::Channel::parse(first.name()), Some(first));
    }
}
