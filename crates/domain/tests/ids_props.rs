//! Property tests of the national identifiers (COL-3, ORG-1).

use chrono::NaiveDate;
use gongshu_domain::ids::{CitizenId, CreditCode, DivisionCode, DivisionLevel, IdError};
use proptest::prelude::*;

const CREDIT_CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CITIZEN_CHARSET: &str = "0123456789X";

/// The character `shift` places after the one at `pos` in `charset` (cyclically),
/// so never the original one when `shift` is below the charset's size.
fn different_char(charset: &str, s: &str, pos: usize, shift: usize) -> char {
    let chars: Vec<char> = charset.chars().collect();
    let original = s.chars().nth(pos).unwrap();
    let index = chars.iter().position(|c| *c == original).unwrap();
    chars[(index + shift) % chars.len()]
}

/// A structurally valid 6-digit division code of any level.
fn six_digit_division() -> impl Strategy<Value = DivisionCode> {
    (11u32..=82, 0u32..=99, 0u32..=99).prop_map(|(p, m, c)| {
        let (m, c) = if m == 0 { (0, 0) } else { (m, c) };
        DivisionCode::parse(&format!("{p:02}{m:02}{c:02}")).unwrap()
    })
}

/// A structurally valid division code of any level, townships included.
fn any_division() -> impl Strategy<Value = DivisionCode> {
    (six_digit_division(), 1u32..=999, any::<bool>()).prop_map(|(d, t, town)| {
        if town && d.level() != DivisionLevel::Province {
            DivisionCode::parse(&format!("{}{t:03}", d.as_str())).unwrap()
        } else {
            d
        }
    })
}

fn birth_date() -> impl Strategy<Value = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(2099, 12, 31).unwrap();
    let span = (last - first).num_days();
    (0..=span).prop_map(move |n| first + chrono::Duration::days(n))
}

fn credit_char() -> impl Strategy<Value = char> {
    proptest::sample::select(CREDIT_CHARSET.chars().collect::<Vec<_>>())
}

fn replace_at(s: &str, i: usize, c: char) -> String {
    s.chars()
        .enumerate()
        .map(|(j, x)| if j == i { c } else { x })
        .collect()
}

proptest! {
    #[test]
    fn col_3_synthesized_citizen_ids_parse_back(
        division in six_digit_division(),
        birth in birth_date(),
        seq in 0u16..=999,
    ) {
        let id = CitizenId::synthesize(&division, birth, seq).unwrap();
        let parsed = CitizenId::parse(id.as_str()).unwrap();
        prop_assert_eq!(&parsed, &id);
        prop_assert_eq!(parsed.division_code(), division.as_str());
        prop_assert_eq!(parsed.birth_date(), birth);
        prop_assert_eq!(parsed.is_female(), seq % 2 == 0);
        let lower = id.as_str().to_ascii_lowercase();
        prop_assert_eq!(CitizenId::parse(&format!("  {lower}\n")).unwrap(), id.clone());
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<CitizenId>(&json).unwrap(), id);
    }

    #[test]
    fn col_3_any_single_substitution_in_a_citizen_id_is_rejected(
        division in six_digit_division(),
        birth in birth_date(),
        seq in 0u16..=999,
        pos in 0usize..18,
        shift in 1usize..11,
    ) {
        let id = CitizenId::synthesize(&division, birth, seq).unwrap();
        let replacement = different_char(CITIZEN_CHARSET, id.as_str(), pos, shift);
        let changed = replace_at(id.as_str(), pos, replacement);
        prop_assert!(CitizenId::parse(&changed).is_err(), "accepted {}", changed);
    }

    #[test]
    fn col_3_synthesized_credit_codes_parse_back(
        authority in credit_char(),
        category in credit_char(),
        division in six_digit_division(),
        seq in 0u32..=99_999_999,
    ) {
        let code = CreditCode::synthesize(authority, category, &division, seq).unwrap();
        let parsed = CreditCode::parse(code.as_str()).unwrap();
        prop_assert_eq!(&parsed, &code);
        prop_assert_eq!(parsed.division_code(), division.as_str());
        prop_assert_eq!(CreditCode::parse(&code.as_str().to_ascii_lowercase()).unwrap(), code.clone());
        let json = serde_json::to_string(&code).unwrap();
        prop_assert_eq!(serde_json::from_str::<CreditCode>(&json).unwrap(), code);
    }

    #[test]
    fn col_3_any_single_substitution_in_a_credit_code_is_rejected(
        authority in credit_char(),
        category in credit_char(),
        division in six_digit_division(),
        seq in 0u32..=99_999_999,
        pos in 0usize..18,
        shift in 1usize..31,
    ) {
        let code = CreditCode::synthesize(authority, category, &division, seq).unwrap();
        let replacement = different_char(CREDIT_CHARSET, code.as_str(), pos, shift);
        let changed = replace_at(code.as_str(), pos, replacement);
        prop_assert!(CreditCode::parse(&changed).is_err(), "accepted {}", changed);
    }

    #[test]
    fn parsers_never_panic(s in "\\PC{0,40}") {
        let _ = CitizenId::parse(&s);
        let _ = CreditCode::parse(&s);
        let _ = DivisionCode::parse(&s);
    }

    #[test]
    fn parsers_never_panic_on_near_valid_input(s in "[0-9A-Za-z]{5,20}") {
        for r in [
            CitizenId::parse(&s).map(|_| ()),
            CreditCode::parse(&s).map(|_| ()),
            DivisionCode::parse(&s).map(|_| ()),
        ] {
            if let Err(e) = r {
                prop_assert!(e.code().starts_with("id."));
                prop_assert!(!e.message_zh().is_empty());
                prop_assert!(!e.message_en().is_empty());
            }
        }
    }

    #[test]
    fn org_1_division_parent_is_one_level_up_and_an_ancestor(d in any_division()) {
        let again = DivisionCode::parse(d.as_str()).unwrap();
        prop_assert_eq!(&again, &d);
        match d.parent() {
            None => prop_assert_eq!(d.level(), DivisionLevel::Province),
            Some(p) => {
                prop_assert!(p.level() < d.level());
                if d.level() != DivisionLevel::Township {
                    prop_assert_eq!(p.level() as u8 + 1, d.level() as u8);
                }
                prop_assert!(d.as_str().starts_with(p.as_str().trim_end_matches('0')));
                prop_assert!(p.is_ancestor_of(&d));
                prop_assert!(!d.is_ancestor_of(&p));
                prop_assert_eq!(DivisionCode::parse(p.as_str()).unwrap(), p);
            }
        }
        prop_assert!(!d.is_ancestor_of(&d));
        let mut chain = 0;
        let mut cur = d.parent();
        while let Some(p) = cur {
            chain += 1;
            cur = p.parent();
        }
        prop_assert!(chain <= 3);
        let level = d.level();
        prop_assert_eq!(DivisionLevel::parse(level.as_str()), Some(level));
    }
}

#[test]
fn citizen_id_rejects_bad_shapes() {
    assert_eq!(
        CitizenId::parse(""),
        Err(IdError::WrongLength {
            expected: 18,
            found: 0
        })
    );
    assert_eq!(
        CitizenId::parse("11010519491231002Ｘ"),
        Err(IdError::InvalidCharacter {
            position: 18,
            found: 'Ｘ'
        })
    );
    assert_eq!(
        CitizenId::parse("11010518991231002X").unwrap_err().code(),
        "id.invalid_date"
    );
    assert_eq!(
        CitizenId::parse("91010519491231002X").unwrap_err().code(),
        "id.invalid_division"
    );
    let d = DivisionCode::parse("110105").unwrap();
    let birth = NaiveDate::from_ymd_opt(2000, 2, 29).unwrap();
    assert_eq!(
        CitizenId::synthesize(&d, birth, 1000).unwrap_err().code(),
        "id.sequence_out_of_range"
    );
    let town = DivisionCode::parse("110105001").unwrap();
    assert_eq!(
        CitizenId::synthesize(&town, birth, 1).unwrap_err().code(),
        "id.invalid_division"
    );
}

#[test]
fn credit_code_synthesis_rejects_bad_parts() {
    let d = DivisionCode::parse("441302").unwrap();
    assert_eq!(
        CreditCode::synthesize('I', '1', &d, 1),
        Err(IdError::InvalidCharacter {
            position: 1,
            found: 'I'
        })
    );
    assert_eq!(
        CreditCode::synthesize('9', 'o', &d, 1),
        Err(IdError::InvalidCharacter {
            position: 2,
            found: 'o'
        })
    );
    assert_eq!(
        CreditCode::synthesize('9', '1', &d, 100_000_000)
            .unwrap_err()
            .code(),
        "id.sequence_out_of_range"
    );
}

#[test]
fn serde_rejects_invalid_identifiers() {
    let err = serde_json::from_str::<CitizenId>("\"110105194912310025\"").unwrap_err();
    assert!(err.to_string().contains("expected X"));
    assert!(serde_json::from_str::<DivisionCode>("\"440000\"").is_ok());
    assert_eq!(
        serde_json::to_string(&DivisionLevel::Prefecture).unwrap(),
        "\"prefecture\""
    );
}

#[test]
fn col_3_every_single_substitution_is_rejected_exhaustively() {
    let birth = NaiveDate::from_ymd_opt(1987, 6, 15).unwrap();
    for (i, division) in ["110105", "441302", "650100", "820000"].iter().enumerate() {
        let division = DivisionCode::parse(division).unwrap();
        for seq in 0..40u16 {
            let id = CitizenId::synthesize(&division, birth, seq * 25 + i as u16).unwrap();
            for pos in 0..18 {
                for c in CITIZEN_CHARSET.chars() {
                    let changed = replace_at(id.as_str(), pos, c);
                    assert_eq!(changed == id.as_str(), CitizenId::parse(&changed).is_ok());
                }
            }
            let code =
                CreditCode::synthesize('9', '1', &division, u32::from(seq) * 2_499_997).unwrap();
            for pos in 0..18 {
                for c in CREDIT_CHARSET.chars() {
                    let changed = replace_at(code.as_str(), pos, c);
                    assert_eq!(
                        changed == code.as_str(),
                        CreditCode::parse(&changed).is_ok()
                    );
                }
            }
        }
    }
}
