//! National identifiers that key people, organisations and places (COL-3, ORG-1).
//!
//! Each type parses, never merely validates: a [`CitizenId`], [`CreditCode`] or
//! [`DivisionCode`] that exists has passed every structural and check-character
//! rule of its standard, so the rest of the system can trust it.

use std::fmt;

use chrono::NaiveDate;

/// Why a string is not a valid identifier. Positions are 1-based character
/// positions in the trimmed input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The identifier has the wrong number of characters.
    #[error("wrong length: expected {expected} characters, found {found}")]
    WrongLength {
        /// Required number of characters.
        expected: usize,
        /// Number of characters given.
        found: usize,
    },
    /// A division code is neither 6 (province, prefecture, county) nor 9 (township) digits long.
    #[error("wrong length: a division code has 6 or 9 digits, found {found}")]
    WrongDivisionLength {
        /// Number of characters given.
        found: usize,
    },
    /// A character is not allowed at its position.
    #[error("invalid character '{found}' at position {position}")]
    InvalidCharacter {
        /// 1-based position of the offending character.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The birth date field (YYYYMMDD) is not a real date between 1900-01-01 and 2099-12-31.
    #[error("invalid birth date '{text}': must be a real date between 1900-01-01 and 2099-12-31")]
    InvalidDate {
        /// The eight characters of the date field.
        text: String,
    },
    /// The administrative division part breaks a GB/T 2260 / GB/T 10114 structural rule.
    #[error("invalid administrative division code '{code}': {}", .rule.describe_en())]
    InvalidDivision {
        /// The division part as given.
        code: String,
        /// The rule it breaks.
        rule: DivisionRule,
    },
    /// The check character does not match the one computed from the other characters.
    #[error("bad check character: expected {expected}, found {found}")]
    BadCheckCharacter {
        /// The check character the standard requires.
        expected: char,
        /// The check character given.
        found: char,
    },
    /// A sequence number given to a synthesiser is too large.
    #[error("sequence {found} out of range: at most {max}")]
    SequenceOutOfRange {
        /// Largest accepted sequence.
        max: u32,
        /// Sequence given.
        found: u32,
    },
}

/// Structural rules of administrative division codes (ORG-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DivisionRule {
    /// The first digit (region) must be 1 to 8.
    RegionDigit,
    /// A code whose prefecture part is `00` must have county part `00` too.
    CountyWithoutPrefecture,
    /// A township hangs under a county or prefecture, never directly under a province.
    TownshipUnderProvince,
    /// A township's own three digits cannot be `000`.
    TownshipNumberZero,
    /// Only a 6-digit code (province, prefecture, county) is allowed here.
    NotSixDigits,
}

impl DivisionRule {
    /// Chinese statement of the rule.
    pub fn describe_zh(&self) -> &'static str {
        match self {
            Self::RegionDigit => "首位（大区）应为 1 至 8",
            Self::CountyWithoutPrefecture => "地市位为 00 时区县位也应为 00",
            Self::TownshipUnderProvince => "乡镇代码的前 6 位应为区县或地市代码，不能是省级代码",
            Self::TownshipNumberZero => "乡镇代码的后 3 位不能为 000",
            Self::NotSixDigits => "此处只接受 6 位（省、地市、区县）代码",
        }
    }

    /// English statement of the rule.
    pub fn describe_en(&self) -> &'static str {
        match self {
            Self::RegionDigit => "the first digit must be 1 to 8",
            Self::CountyWithoutPrefecture => {
                "the county part must be 00 when the prefecture part is 00"
            }
            Self::TownshipUnderProvince => {
                "a township code must extend a county or prefecture code, not a province code"
            }
            Self::TownshipNumberZero => "the township's last three digits cannot be 000",
            Self::NotSixDigits => {
                "only a 6-digit (province, prefecture or county) code is accepted here"
            }
        }
    }
}

impl IdError {
    /// Stable machine-readable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongLength { .. } | Self::WrongDivisionLength { .. } => "id.wrong_length",
            Self::InvalidCharacter { .. } => "id.invalid_character",
            Self::InvalidDate { .. } => "id.invalid_date",
            Self::InvalidDivision { .. } => "id.invalid_division",
            Self::BadCheckCharacter { .. } => "id.bad_check_character",
            Self::SequenceOutOfRange { .. } => "id.sequence_out_of_range",
        }
    }

    /// Message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Self::WrongLength { expected, found } => {
                format!("长度错误：应为 {expected} 位，实为 {found} 位")
            }
            Self::WrongDivisionLength { found } => {
                format!("长度错误：行政区划代码应为 6 位（省、地市、区县）或 9 位（乡镇），实为 {found} 位")
            }
            Self::InvalidCharacter { position, found } => {
                format!("第 {position} 位字符“{found}”不允许出现在该位置")
            }
            Self::InvalidDate { text } => {
                format!("出生日期“{text}”无效：应为 1900-01-01 至 2099-12-31 之间真实存在的日期")
            }
            Self::InvalidDivision { code, rule } => {
                format!("行政区划代码“{code}”无效：{}", rule.describe_zh())
            }
            Self::BadCheckCharacter { expected, found } => {
                format!("校验码错误：应为 {expected}，实为 {found}")
            }
            Self::SequenceOutOfRange { max, found } => {
                format!("顺序号 {found} 超出范围：最大为 {max}")
            }
        }
    }

    /// Message in English.
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

/// Level of an administrative division (ORG-1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DivisionLevel {
    /// Province, autonomous region or municipality (省级), code `XX0000`.
    Province,
    /// Prefecture-level city or equivalent (地市级), code `XXYY00`.
    Prefecture,
    /// County, district or county-level city (区县级), code `XXYYZZ`.
    County,
    /// Township, town or sub-district (乡镇级), 9-digit code.
    Township,
}

impl DivisionLevel {
    /// Snake-case key, the same as its serde form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Prefecture => "prefecture",
            Self::County => "county",
            Self::Township => "township",
        }
    }

    /// Parses the snake-case key.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "province" => Some(Self::Province),
            "prefecture" => Some(Self::Prefecture),
            "county" => Some(Self::County),
            "township" => Some(Self::Township),
            _ => None,
        }
    }

    /// Chinese label.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Self::Province => "省级",
            Self::Prefecture => "地市级",
            Self::County => "区县级",
            Self::Township => "乡镇级",
        }
    }

    /// English label.
    pub fn label_en(&self) -> &'static str {
        match self {
            Self::Province => "Province level",
            Self::Prefecture => "Prefecture level",
            Self::County => "County level",
            Self::Township => "Township level",
        }
    }
}

impl fmt::Display for DivisionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Administrative division code (ORG-1): six digits by GB/T 2260 for a province
/// (`XX0000`), prefecture (`XXYY00`) or county (`XXYYZZ`), or nine digits by
/// GB/T 10114 for a township (its county's — or, for cities without districts,
/// its prefecture's — code plus three digits).
///
/// Checks are structural: a code that follows the pattern is accepted even if it
/// is not (or no longer) in the official list.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(String);

impl DivisionCode {
    /// Parses a 6- or 9-digit code; surrounding whitespace is ignored.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let s = trim_value(s);
        let found = char_count(s);
        if found != 6 && found != 9 {
            return Err(IdError::WrongDivisionLength { found });
        }
        if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(IdError::InvalidCharacter {
                position: i + 1,
                found: c,
            });
        }
        let b = s.as_bytes();
        let invalid = |rule| IdError::InvalidDivision {
            code: s.to_owned(),
            rule,
        };
        if !(b'1'..=b'8').contains(&b[0]) {
            return Err(invalid(DivisionRule::RegionDigit));
        }
        if &s[2..4] == "00" && &s[4..6] != "00" {
            return Err(invalid(DivisionRule::CountyWithoutPrefecture));
        }
        if found == 9 {
            if &s[2..6] == "0000" {
                return Err(invalid(DivisionRule::TownshipUnderProvince));
            }
            if &s[6..9] == "000" {
                return Err(invalid(DivisionRule::TownshipNumberZero));
            }
        }
        Ok(Self(s.to_owned()))
    }

    /// The code's digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Level, read from the code's shape.
    pub fn level(&self) -> DivisionLevel {
        let s = &self.0;
        if s.len() == 9 {
            DivisionLevel::Township
        } else if &s[2..6] == "0000" {
            DivisionLevel::Province
        } else if &s[4..6] == "00" {
            DivisionLevel::Prefecture
        } else {
            DivisionLevel::County
        }
    }

    /// The enclosing division: township → its 6-digit prefix (county, or
    /// prefecture for cities without districts) → prefecture → province → `None`.
    pub fn parent(&self) -> Option<DivisionCode> {
        let s = &self.0;
        let parent = match self.level() {
            DivisionLevel::Township => s[..6].to_owned(),
            DivisionLevel::County => format!("{}00", &s[..4]),
            DivisionLevel::Prefecture => format!("{}0000", &s[..2]),
            DivisionLevel::Province => return None,
        };
        Some(DivisionCode(parent))
    }

    /// Whether `self` strictly encloses `other` (ORG-1 tree).
    pub fn is_ancestor_of(&self, other: &DivisionCode) -> bool {
        let mut current = other.parent();
        while let Some(p) = current {
            if &p == self {
                return true;
            }
            current = p.parent();
        }
        false
    }

    /// The code, required to be 6 digits (used inside citizen IDs and credit codes).
    fn parse_six(s: &str) -> Result<Self, IdError> {
        let code = Self::parse(s)?;
        if code.level() == DivisionLevel::Township {
            return Err(IdError::InvalidDivision {
                code: code.0,
                rule: DivisionRule::NotSixDigits,
            });
        }
        Ok(code)
    }
}

/// Weights of ISO 7064 MOD 11-2 for the 17 body digits: 2^(18-i) mod 11.
const CITIZEN_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

fn citizen_check(body: &[u8]) -> char {
    let sum: u32 = body
        .iter()
        .zip(CITIZEN_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    match (12 - sum % 11) % 11 {
        10 => 'X',
        v => char::from(b'0' + v as u8),
    }
}

/// A date written as eight ASCII digits `YYYYMMDD`, if it exists. Read by hand: a
/// bulk load checks millions of birth dates, and chrono's format parser cost more
/// than the rest of a citizen ID's checks (docs/performance.md).
pub(crate) fn date_of_digits(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 8 {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits_value(&b[..4])? as i32,
        digits_value(&b[4..6])?,
        digits_value(&b[6..])?,
    )
}

/// The number written by ASCII digits, if every byte is one (and there are at
/// most nine, as in the parts of a date).
pub(crate) fn digits_value(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Characters in `s`, counted without decoding when it is all ASCII.
fn char_count(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// `s` without surrounding whitespace. Most values have none: when the first and
/// last bytes are visible ASCII, `s` is returned without the Unicode-aware scan.
pub fn trim_value(s: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|b| (0x21..0x7f).contains(b));
    if visible(s.as_bytes().first()) && visible(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// Earliest and latest birth date accepted in a citizen ID.
fn birth_range() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid constant date"),
        NaiveDate::from_ymd_opt(2099, 12, 31).expect("valid constant date"),
    )
}

/// Citizen identity number by GB 11643-1999 (COL-3): 6-digit division, 8-digit
/// birth date, 3-digit sequence (odd for men, even for women) and an ISO 7064
/// MOD 11-2 check character (`0`-`9` or `X`).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct CitizenId(String);

impl CitizenId {
    /// Parses an 18-character number; trims surrounding whitespace and accepts a
    /// lowercase `x` check character (stored as `X`).
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let s = trim_value(s);
        let found = char_count(s);
        if found != 18 {
            return Err(IdError::WrongLength {
                expected: 18,
                found,
            });
        }
        for (i, c) in s.chars().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && (c == 'X' || c == 'x'));
            if !ok {
                return Err(IdError::InvalidCharacter {
                    position: i + 1,
                    found: c,
                });
            }
        }
        let upper = s.to_ascii_uppercase();
        DivisionCode::parse_six(&upper[..6])?;
        parse_birth(&upper[6..14])?;
        let expected = citizen_check(&upper.as_bytes()[..17]);
        let found = char::from(upper.as_bytes()[17]);
        if expected != found {
            return Err(IdError::BadCheckCharacter { expected, found });
        }
        Ok(Self(upper))
    }

    /// The number, with an uppercase check character.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Division code of the place of first registration (first 6 digits).
    pub fn division_code(&self) -> &str {
        &self.0[..6]
    }

    /// Date of birth.
    pub fn birth_date(&self) -> NaiveDate {
        parse_birth(&self.0[6..14]).expect("validated at parse")
    }

    /// Whether the sequence digit (17th) is even, which GB 11643 assigns to women.
    pub fn is_female(&self) -> bool {
        matches!(self.0.as_bytes()[16], b'0' | b'2' | b'4' | b'6' | b'8')
    }

    /// Builds a checksum-valid synthetic number for demo data: `division` must be
    /// a 6-digit code, `birth` between 1900-01-01 and 2099-12-31, `sequence` 0..=999.
    pub fn synthesize(
        division: &DivisionCode,
        birth: NaiveDate,
        sequence: u16,
    ) -> Result<Self, IdError> {
        if division.level() == DivisionLevel::Township {
            return Err(IdError::InvalidDivision {
                code: division.as_str().to_owned(),
                rule: DivisionRule::NotSixDigits,
            });
        }
        let (min, max) = birth_range();
        let date = birth.format("%Y%m%d").to_string();
        if birth < min || birth > max {
            return Err(IdError::InvalidDate { text: date });
        }
        if sequence > 999 {
            return Err(IdError::SequenceOutOfRange {
                max: 999,
                found: u32::from(sequence),
            });
        }
        let body = format!("{}{date}{sequence:03}", division.as_str());
        let check = citizen_check(body.as_bytes());
        Ok(Self(format!("{body}{check}")))
    }
}

fn parse_birth(text: &str) -> Result<NaiveDate, IdError> {
    let invalid = || IdError::InvalidDate {
        text: text.to_owned(),
    };
    let date = date_of_digits(text.as_bytes()).ok_or_else(invalid)?;
    let (min, max) = birth_range();
    if date < min || date > max {
        return Err(invalid());
    }
    Ok(date)
}

/// The 31 characters of GB 32100-2015, in value order (no I, O, Z, S, V).
const CREDIT_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of GB 32100-2015 for the 17 body characters: 3^(i-1) mod 31.
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn credit_value(c: char) -> Option<u32> {
    let b = u8::try_from(c).ok()?;
    CREDIT_CHARSET
        .iter()
        .position(|&x| x == b)
        .map(|v| v as u32)
}

fn credit_check(body: &str) -> char {
    let sum: u32 = body
        .chars()
        .zip(CREDIT_WEIGHTS)
        .map(|(c, w)| credit_value(c).expect("charset checked") * w)
        .sum();
    char::from(CREDIT_CHARSET[((31 - sum % 31) % 31) as usize])
}

/// Check character of a GB 11714 organisation code body made of 8 digits.
fn org_code_check(digits: &[u8]) -> char {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        v => char::from(b'0' + v as u8),
    }
}

/// Unified social credit code by GB 32100-2015 (COL-3): registration authority
/// (1 char), organisation category (1), division code of the registering
/// authority (6 digits), organisation code body (9), check character (1), all
/// from a 31-character set without I, O, Z, S or V.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

impl CreditCode {
    /// Parses an 18-character code; trims surrounding whitespace and accepts
    /// lowercase letters (stored uppercase).
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let s = trim_value(s);
        let found = char_count(s);
        if found != 18 {
            return Err(IdError::WrongLength {
                expected: 18,
                found,
            });
        }
        for (i, c) in s.chars().enumerate() {
            let upper = c.to_ascii_uppercase();
            let ok = if (2..8).contains(&i) {
                c.is_ascii_digit()
            } else {
                credit_value(upper).is_some()
            };
            if !ok {
                return Err(IdError::InvalidCharacter {
                    position: i + 1,
                    found: c,
                });
            }
        }
        let upper = s.to_ascii_uppercase();
        DivisionCode::parse_six(&upper[2..8])?;
        let expected = credit_check(&upper[..17]);
        let found = char::from(upper.as_bytes()[17]);
        if expected != found {
            return Err(IdError::BadCheckCharacter { expected, found });
        }
        Ok(Self(upper))
    }

    /// The code, uppercase.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Division code of the registering authority (characters 3 to 8).
    pub fn division_code(&self) -> &str {
        &self.0[2..8]
    }

    /// Builds a checksum-valid synthetic code for demo data. `authority` and
    /// `category` must be in the GB 32100 character set (lowercase accepted);
    /// `division` must be a 6-digit code; `sequence` (0..=99 999 999) becomes the
    /// eight digits of the body, followed by its GB 11714 check character.
    pub fn synthesize(
        authority: char,
        category: char,
        division: &DivisionCode,
        sequence: u32,
    ) -> Result<Self, IdError> {
        const MAX_SEQUENCE: u32 = 99_999_999;
        let authority_upper = authority.to_ascii_uppercase();
        if credit_value(authority_upper).is_none() {
            return Err(IdError::InvalidCharacter {
                position: 1,
                found: authority,
            });
        }
        let category_upper = category.to_ascii_uppercase();
        if credit_value(category_upper).is_none() {
            return Err(IdError::InvalidCharacter {
                position: 2,
                found: category,
            });
        }
        if division.level() == DivisionLevel::Township {
            return Err(IdError::InvalidDivision {
                code: division.as_str().to_owned(),
                rule: DivisionRule::NotSixDigits,
            });
        }
        if sequence > MAX_SEQUENCE {
            return Err(IdError::SequenceOutOfRange {
                max: MAX_SEQUENCE,
                found: sequence,
            });
        }
        let digits = format!("{sequence:08}");
        let org_check = org_code_check(digits.as_bytes());
        let body = format!(
            "{authority_upper}{category_upper}{}{digits}{org_check}",
            division.as_str()
        );
        let check = credit_check(&body);
        Ok(Self(format!("{body}{check}")))
    }
}

macro_rules! string_newtype {
    ($t:ident) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $t {
            type Error = IdError;

            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }

        impl std::str::FromStr for $t {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

string_newtype!(CitizenId);
string_newtype!(CreditCode);
string_newtype!(DivisionCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn col_3_gb11643_example_number_is_valid() {
        // The worked example of GB 11643-1999.
        let id = CitizenId::parse("11010519491231002x").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.division_code(), "110105");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert!(id.is_female());
    }

    #[test]
    fn col_3_gb32100_example_code_is_valid() {
        // The worked example of GB 32100-2015: weighted sum 1640, check character 3.
        let code = CreditCode::parse(" 91350100m000100y43 ").unwrap();
        assert_eq!(code.as_str(), "91350100M000100Y43");
        assert_eq!(code.division_code(), "350100");
        assert_eq!(
            CreditCode::parse("91350100M000100Y44"),
            Err(IdError::BadCheckCharacter {
                expected: '3',
                found: '4'
            })
        );
        // The standard's counter-example ends in Z, which is not in the character set.
        assert_eq!(
            CreditCode::parse("91350100M000100Y4Z"),
            Err(IdError::InvalidCharacter {
                position: 18,
                found: 'Z'
            })
        );
    }

    #[test]
    fn weights_follow_their_formulas() {
        for (i, w) in CREDIT_WEIGHTS.iter().enumerate() {
            assert_eq!(*w, 3u32.pow(i as u32) % 31);
        }
        for (i, w) in CITIZEN_WEIGHTS.iter().enumerate() {
            assert_eq!(*w, 2u32.pow(17 - i as u32) % 11);
        }
    }

    #[test]
    fn errors_are_precise() {
        let e = CitizenId::parse("110105194912310025").unwrap_err();
        assert_eq!(e.code(), "id.bad_check_character");
        assert_eq!(e.message_zh(), "校验码错误：应为 X，实为 5");
        assert_eq!(e.message_en(), "bad check character: expected X, found 5");
        let e = CitizenId::parse("1101051949123100").unwrap_err();
        assert_eq!(e.message_zh(), "长度错误：应为 18 位，实为 16 位");
        let e = CitizenId::parse("110105194902300020").unwrap_err();
        assert_eq!(e.code(), "id.invalid_date");
        let e = CreditCode::parse("91350100M000100I43").unwrap_err();
        assert_eq!(
            e,
            IdError::InvalidCharacter {
                position: 16,
                found: 'I'
            }
        );
    }

    #[test]
    fn col_3_the_hand_written_trim_and_date_agree_with_the_general_ones() {
        for s in [
            "abc",
            " abc",
            "abc\t",
            "\u{3000}值\u{3000}",
            "",
            " ",
            "a b",
            "\u{a0}x",
        ] {
            assert_eq!(trim_value(s), s.trim(), "{s:?}");
        }
        assert_eq!(
            date_of_digits(b"20240229"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for bad in [
            &b"20230229"[..],
            b"20231301",
            b"2023-1-1",
            b"2023011",
            b"202301011",
        ] {
            assert_eq!(
                date_of_digits(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let id = CitizenId::parse("\u{3000}11010519491231002x\t").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
    }

    #[test]
    fn synthesized_org_body_has_valid_gb11714_check() {
        let division = DivisionCode::parse("441302").unwrap();
        let code = CreditCode::synthesize('9', '1', &division, 12_345_678).unwrap();
        // 1*3+2*7+3*9+4*10+5*5+6*8+7*4+8*2 = 201; 201 mod 11 = 3; 11 - 3 = 8.
        assert_eq!(&code.as_str()[8..17], "123456788");
    }

    #[test]
    fn division_levels_and_parents() {
        let town = DivisionCode::parse("441302001").unwrap();
        assert_eq!(town.level(), DivisionLevel::Township);
        let county = town.parent().unwrap();
        assert_eq!(county.as_str(), "441302");
        let pref = county.parent().unwrap();
        assert_eq!(pref.as_str(), "441300");
        assert_eq!(pref.level(), DivisionLevel::Prefecture);
        let prov = pref.parent().unwrap();
        assert_eq!(prov.as_str(), "440000");
        assert!(prov.parent().is_none());
        assert!(prov.is_ancestor_of(&town));
        assert!(!town.is_ancestor_of(&prov));
        assert!(!prov.is_ancestor_of(&prov));
        // Dongguan has no districts: its towns hang under the prefecture.
        let dongguan_town = DivisionCode::parse("441900003").unwrap();
        assert_eq!(
            dongguan_town.parent().unwrap().level(),
            DivisionLevel::Prefecture
        );
        assert!(DivisionCode::parse("110005").is_err());
        assert!(DivisionCode::parse("440000001").is_err());
        assert!(DivisionCode::parse("441302000").is_err());
        assert!(DivisionCode::parse("910000").is_err());
    }
}
