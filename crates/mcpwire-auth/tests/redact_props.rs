//! The scrubber against random secrets in every JSON spelling, split at random points: no
//! spelling survives, and text without a secret passes unchanged.

#![allow(clippy::unwrap_used)]

use mcpwire_auth::redact::{MARKER, Scrubber};
use proptest::prelude::*;

/// Characters a token may hold, including the ones JSON must escape.
fn secret_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => proptest::char::range('a', 'z'),
        4 => proptest::char::range('0', '9'),
        2 => Just('-'),
        1 => Just('"'),
        1 => Just('\\'),
        1 => Just('/'),
        1 => Just('é'),
        1 => Just('😀'),
        1 => Just('\n'),
    ]
}

/// A string's JSON encoding without the surrounding quotes.
fn json(s: &str) -> String {
    let e = serde_json::to_string(s).unwrap();
    e[1..e.len() - 1].to_owned()
}

/// One character written in one of the spellings a JSON encoder may choose.
fn spell(c: char, how: u8) -> String {
    match how % 3 {
        0 => json(&c.to_string()),
        1 => {
            let mut units = [0u16; 2];
            c.encode_utf16(&mut units)
                .iter()
                .map(|u| {
                    if how.is_multiple_of(2) {
                        format!("\\u{u:04x}")
                    } else {
                        format!("\\u{u:04X}")
                    }
                })
                .collect()
        }
        _ => json(&c.to_string()),
    }
}

fn encodings(secret: &str, mix: &[u8]) -> Vec<String> {
    // Raw characters are allowed only where JSON does not force an escape.
    let mixed: String = secret
        .chars()
        .enumerate()
        .map(|(i, c)| spell(c, mix[i % mix.len()]))
        .collect();
    vec![
        json(secret),
        mixed.clone(),
        json(&json(secret)),
        json(&mixed),
        json(&json(&json(secret))),
    ]
}

fn scrub_chunked(s: &mut Scrubber, text: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (text.len() + 1)).collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for p in points.into_iter().chain([text.len()]) {
        let chunk = &text[at..p.max(at)];
        at = p.max(at);
        match s.feed(chunk) {
            Some(v) => out.extend(v),
            None => out.extend_from_slice(chunk),
        }
    }
    out.extend(s.finish());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_spelling_of_a_secret_survives(
        secret in proptest::collection::vec(secret_char(), 8..24).prop_map(|v| v.into_iter().collect::<String>()),
        mix in proptest::collection::vec(any::<u8>(), 1..8),
        which in 0usize..5,
        before in "[a-z {}:,\"]{0,40}",
        after in "[a-z {}:,\"]{0,40}",
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let spelled = encodings(&secret, &mix)[which].clone();
        let text = format!("{before}{spelled}{after}");
        let mut s = Scrubber::new([secret.as_str()]);
        let out = String::from_utf8(scrub_chunked(&mut s, text.as_bytes(), &cuts)).unwrap();
        prop_assert!(out.contains(MARKER), "{text:?} -> {out:?}");
        for e in encodings(&secret, &mix) {
            prop_assert!(!out.contains(&e), "{e:?} survived in {out:?}");
        }
        prop_assert!(!out.contains(&secret));
        // Chunking does not change the result.
        let whole = s.scrub_str(&text);
        prop_assert_eq!(whole, out);
    }

    #[test]
    fn text_without_a_secret_is_unchanged(
        text in "[a-z \\\\\"{}:,]{0,200}",
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        // The secret holds a digit, which the text never does, in any spelling.
        let mut s = Scrubber::new(["ab-7-secret"]);
        let out = scrub_chunked(&mut s, text.as_bytes(), &cuts);
        prop_assert_eq!(out, text.as_bytes().to_vec());
    }
}
