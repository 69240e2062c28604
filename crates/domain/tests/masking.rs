//! Masking (脱敏) rules of the egress gate (SHR-8, SHR-15, DESIGN principle 2).

use chrono::NaiveDate;
use gongshu_domain::catalog::{DataItem, FieldType, KeyRole};
use gongshu_domain::dataset::{TableSchema, Value};
use gongshu_domain::masking::{
    default_rule, hmac_sm3, mask_text, mask_value, MaskPolicy, MaskPolicyError, MaskRule,
};
use proptest::prelude::*;

const KEY: &[u8] = b"gongshu-test-key";

fn text(rule: MaskRule, s: &str) -> String {
    mask_text(&rule, s, KEY).expect("not suppressed")
}

fn item(name: &str, code: &str, t: FieldType, role: KeyRole, sensitive: bool) -> DataItem {
    DataItem {
        name: name.into(),
        code_name: code.into(),
        field_type: t,
        length: None,
        meaning: String::new(),
        sensitive,
        key_role: role,
        element_code: None,
        constraints: Default::default(),
    }
}

/// A population table with every kind of column the default rules tell apart.
fn residents() -> TableSchema {
    use FieldType::{Date, Integer, String as Text};
    TableSchema::from_items(&[
        item("公民身份号码", "id_no", Text, KeyRole::CitizenId, true),
        item("姓名", "name", Text, KeyRole::None, true),
        item("联系电话", "phone", Text, KeyRole::None, true),
        item("户籍地址", "hjdz", Text, KeyRole::None, true),
        item("出生日期", "birth_date", Date, KeyRole::None, true),
        item("性别", "sex", Text, KeyRole::None, false),
        item("宗教信仰", "religion", Text, KeyRole::None, true),
        item(
            "住所行政区划",
            "division",
            Text,
            KeyRole::DivisionCode,
            true,
        ),
        item(
            "工作单位信用代码",
            "employer_code",
            Text,
            KeyRole::CreditCode,
            true,
        ),
        item("证件号码", "zjhm", Text, KeyRole::None, true),
        item("年龄", "age", Integer, KeyRole::None, false),
    ])
}

fn resident_row() -> Vec<Value> {
    vec![
        Value::Text("11010519491231002X".into()),
        Value::Text("欧阳娜娜".into()),
        Value::Text("13812341234".into()),
        Value::Text("北京市朝阳区建国路88号".into()),
        Value::Date(NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()),
        Value::Text("女".into()),
        Value::Text("无".into()),
        Value::Text("110105".into()),
        Value::Text("91110000100000000X".into()),
        Value::Text("110105194912310021".into()),
        Value::Integer(76),
    ]
}

#[test]
fn shr_8_citizen_id_keeps_first_six_and_last_four() {
    assert_eq!(
        text(MaskRule::CitizenId, "11010519491231002X"),
        "110105********002X"
    );
    assert_eq!(
        text(MaskRule::CitizenId, "110101199003071234"),
        "110101********1234"
    );
    // 15-character IDs of the first generation keep 6 + 4 as well.
    assert_eq!(
        text(MaskRule::CitizenId, "110105491231002"),
        "110105*****1002"
    );
    assert_eq!(
        text(MaskRule::CitizenId, " 11010519491231002X "),
        "110105********002X",
        "surrounding blanks do not shift the mask"
    );
    // Too short to keep 6 + 4 and still hide something: all hidden.
    assert_eq!(text(MaskRule::CitizenId, "1101051949"), "**********");
    assert_eq!(text(MaskRule::CitizenId, "110105"), "******");
    assert_eq!(text(MaskRule::CitizenId, ""), "");
}

#[test]
fn shr_8_mobile_keeps_first_three_and_last_four() {
    assert_eq!(text(MaskRule::Mobile, "13812341234"), "138****1234");
    assert_eq!(text(MaskRule::Mobile, "+86 138-1234-1234"), "138****1234");
    assert_eq!(text(MaskRule::Mobile, "008613812341234"), "138****1234");
    // Landlines and other numbers keep only their last four characters.
    assert_eq!(text(MaskRule::Mobile, "010-85201234"), "********1234");
    assert_eq!(text(MaskRule::Mobile, "0571 8765 4321"), "**********4321");
    assert_eq!(text(MaskRule::Mobile, "12345"), "*2345");
    assert_eq!(text(MaskRule::Mobile, "110"), "***");
}

#[test]
fn shr_8_name_keeps_the_surname() {
    assert_eq!(text(MaskRule::Name, "张三"), "张*");
    assert_eq!(text(MaskRule::Name, "欧阳娜娜"), "欧***");
    assert_eq!(text(MaskRule::Name, "阿卜杜·热西提"), "阿******");
    assert_eq!(text(MaskRule::Name, "李"), "*");
    assert_eq!(text(MaskRule::Name, "John Smith"), "J*********");
    assert_eq!(text(MaskRule::Name, "Ann"), "A**");
}

#[test]
fn shr_8_address_is_cut_to_the_administrative_area() {
    let cases = [
        ("北京市朝阳区建国路88号", "北京市朝阳区****"),
        ("浙江省杭州市西湖区文三路100号", "浙江省杭州市西湖区****"),
        ("上海市浦东新区世纪大道1号", "上海市浦东新区****"),
        // A street with 市 in it is not an administrative unit.
        ("北京市朝阳区建国路市场街1号", "北京市朝阳区****"),
        ("北京市建国路市场街1号", "北京市****"),
        // County-level cities and counties.
        (
            "江苏省苏州市昆山市玉山镇人民路1号",
            "江苏省苏州市昆山市****",
        ),
        ("河北省保定市涞水县永阳镇", "河北省保定市涞水县****"),
        ("江苏省镇江市京口区", "江苏省镇江市京口区****"),
        ("内蒙古自治区呼和浩特市新城区", "内蒙古自治区呼和浩特市****"),
        ("内蒙古锡林郭勒盟正蓝旗上都镇", "内蒙古锡林郭勒盟正蓝旗****"),
        // No administrative unit: the first 6 characters.
        ("中关村大街27号中关村大厦", "中关村大街2****"),
        ("建国路88号", "建国路****"),
    ];
    for (address, masked) in cases {
        assert_eq!(text(MaskRule::Address, address), masked, "{address}");
    }
}

#[test]
fn shr_8_dates_keep_only_the_year() {
    let key = KEY;
    let d = NaiveDate::from_ymd_opt(1990, 3, 7).unwrap();
    assert_eq!(
        mask_value(&MaskRule::DateToYear, &Value::Date(d), key),
        Value::Text("1990".into())
    );
    assert_eq!(
        mask_value(
            &MaskRule::DateToYear,
            &Value::DateTime(d.and_hms_opt(8, 30, 0).unwrap()),
            key
        ),
        Value::Text("1990".into())
    );
    for written in [
        "1990-03-07",
        "19900307",
        "1990/03/07",
        "1990年3月7日",
        "1990-03-07 08:30:00",
        "1990",
    ] {
        assert_eq!(text(MaskRule::DateToYear, written), "1990", "{written}");
    }
    // Not a date: suppressed rather than delivered as it is (fail closed).
    assert_eq!(mask_text(&MaskRule::DateToYear, "1990-02-30", key), None);
    assert_eq!(mask_text(&MaskRule::DateToYear, "三月七日", key), None);
    assert_eq!(
        mask_value(&MaskRule::DateToYear, &Value::Text("unknown".into()), key),
        Value::Null
    );
}

#[test]
fn shr_15_pseudonyms_are_stable_and_keyed() {
    let id = "11010519491231002X";
    let p = text(MaskRule::Pseudonym, id);
    // HMAC-SM3 computed independently with OpenSSL 3 (`openssl dgst -sm3 -hmac`).
    assert_eq!(p, "p_5512a15c9714d973a90fce6e51f3d902");
    assert_eq!(p.len(), 2 + 32);
    assert_eq!(text(MaskRule::Pseudonym, id), p, "same input, same key");
    assert_eq!(
        text(MaskRule::Pseudonym, &format!(" {id}\t")),
        p,
        "blanks do not break linkage"
    );
    assert_ne!(
        mask_text(&MaskRule::Pseudonym, id, b"another-key").unwrap(),
        p,
        "another key, another pseudonym"
    );
    assert_ne!(text(MaskRule::Pseudonym, "110105194912310021"), p);
    assert_eq!(
        mask_value(&MaskRule::Pseudonym, &Value::Integer(42), KEY),
        mask_value(&MaskRule::Pseudonym, &Value::Text("42".into()), KEY),
        "a value and its canonical text link"
    );
}

#[test]
fn hmac_sm3_matches_openssl() {
    // Expected values from OpenSSL 3.0 and Python's hmac module (both agree).
    assert_eq!(
        hex::encode(hmac_sm3(b"key", b"abc")),
        "28e63256e7c5a087b1f073265dc53092163f7b82729735d06f28f10af9d52393"
    );
    assert_eq!(
        hex::encode(hmac_sm3("密钥".as_bytes(), "张三".as_bytes())),
        "0b4f907407571673be5c36b6d83b0b362c6c4b5b27bad6336507b30163c388ca"
    );
    // A key longer than the 64-byte block is hashed first (RFC 2104).
    assert_eq!(
        hex::encode(hmac_sm3(
            &[0xaa; 100],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "ddfd727df11b435760f1fa6638e2c059a66a74da8432815201915246e6211294"
    );
    assert_eq!(
        hex::encode(hmac_sm3(b"", b"")),
        "0d23f72ba15e9c189a879aefc70996b06091de6e64d31b7a84004356dd915261"
    );
}

#[test]
fn shr_8_suppress_partial_and_clear() {
    assert_eq!(mask_text(&MaskRule::Suppress, "任何内容", KEY), None);
    assert_eq!(
        mask_text(&MaskRule::Clear, " 原样 ", KEY).unwrap(),
        " 原样 "
    );
    let partial = |s, e| MaskRule::Partial {
        keep_start: s,
        keep_end: e,
    };
    assert_eq!(text(partial(3, 4), "浙A12345学"), "浙A1*345学");
    assert_eq!(text(partial(0, 2), "统一社会信用代码"), "******代码");
    assert_eq!(text(partial(2, 0), "6222021234567890"), "62**************");
    assert_eq!(
        text(partial(3, 4), "1234567"),
        "*******",
        "nothing hidden: all"
    );
    assert_eq!(text(partial(0, 0), "秘密"), "**");
}

#[test]
fn masked_values_keep_nulls_and_become_text() {
    let rules = [
        MaskRule::Clear,
        MaskRule::CitizenId,
        MaskRule::Mobile,
        MaskRule::Name,
        MaskRule::Address,
        MaskRule::DateToYear,
        MaskRule::Pseudonym,
        MaskRule::Suppress,
        MaskRule::Partial {
            keep_start: 1,
            keep_end: 1,
        },
    ];
    for rule in rules {
        assert_eq!(mask_value(&rule, &Value::Null, KEY), Value::Null, "{rule}");
    }
    assert_eq!(
        mask_value(&MaskRule::Clear, &Value::Number(3.5), KEY),
        Value::Number(3.5)
    );
    assert_eq!(
        mask_value(&MaskRule::Suppress, &Value::Integer(7), KEY),
        Value::Null
    );
    assert_eq!(
        mask_value(&MaskRule::Mobile, &Value::Integer(13812341234), KEY),
        Value::Text("138****1234".into())
    );
    assert_eq!(
        mask_value(&MaskRule::Name, &Value::Boolean(true), KEY),
        Value::Text("t***".into())
    );
    assert_eq!(
        mask_value(&MaskRule::Name, &Value::Text(String::new()), KEY),
        Value::Text(String::new())
    );
}

proptest! {
    /// Any text, any script: no panic, and edge-keeping rules hide character by
    /// character (never cutting a multi-byte character).
    #[test]
    fn masking_works_on_characters(s in "\\PC{0,40}", a in 0u8..8, b in 0u8..8) {
        let t = s.trim();
        let n = t.chars().count();
        for rule in [
            MaskRule::CitizenId,
            MaskRule::Name,
            MaskRule::Partial { keep_start: a, keep_end: b },
        ] {
            let out = text(rule, &s);
            prop_assert_eq!(out.chars().count(), n);
            if n > 0 {
                prop_assert!(out.contains('*'), "{} hides something of {:?}", rule, s);
            }
        }
        for rule in MaskRule::all() {
            let _ = mask_text(rule, &s, KEY);
        }
        if n > 0 {
            prop_assert!(text(MaskRule::Address, &s).ends_with("****"));
        }
    }
}

#[test]
fn shr_8_default_rules_follow_key_role_and_meaning() {
    let schema = residents();
    let rules: Vec<(&str, MaskRule)> = schema
        .columns
        .iter()
        .map(|c| (c.name.as_str(), default_rule(c)))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("id_no", MaskRule::CitizenId),
            ("name", MaskRule::Name),
            ("phone", MaskRule::Mobile),
            ("hjdz", MaskRule::Address),
            ("birth_date", MaskRule::DateToYear),
            ("sex", MaskRule::Clear),
            ("religion", MaskRule::Suppress),
            ("division", MaskRule::Clear),
            ("employer_code", MaskRule::Clear),
            ("zjhm", MaskRule::CitizenId),
            ("age", MaskRule::Clear),
        ]
    );
}

#[test]
fn shr_8_default_rules_read_titles_and_code_names() {
    use FieldType::String as Text;
    let rule = |name: &str, code: &str| {
        let schema = TableSchema::from_items(&[item(name, code, Text, KeyRole::None, true)]);
        default_rule(&schema.columns[0])
    };
    assert_eq!(rule("联系人手机号码", "contact"), MaskRule::Mobile);
    assert_eq!(rule("Contact", "mobile_phone"), MaskRule::Mobile);
    assert_eq!(rule("Contact", "office_tel"), MaskRule::Mobile);
    assert_eq!(
        rule("Hotel", "hotel"),
        MaskRule::Suppress,
        "tel only as a word"
    );
    assert_eq!(rule("现住址", "xzz"), MaskRule::Address);
    assert_eq!(rule("Home", "home_address"), MaskRule::Address);
    assert_eq!(rule("出生地", "csd"), MaskRule::Address);
    assert_eq!(rule("出生年月", "csny"), MaskRule::DateToYear);
    assert_eq!(rule("Birth", "birthday"), MaskRule::DateToYear);
    assert_eq!(rule("法定代表人姓名", "fddbrxm"), MaskRule::Name);
    assert_eq!(rule("Holder", "holder_name"), MaskRule::Name);
    assert_eq!(rule("身份证号", "sfzh"), MaskRule::CitizenId);
    assert_eq!(rule("Holder", "holder_id_no"), MaskRule::CitizenId);
    assert_eq!(rule("病史", "medical_history"), MaskRule::Suppress);
    // A sensitive datetime is cut to its year whatever its name.
    let schema = TableSchema::from_items(&[item(
        "就诊时间",
        "visit_at",
        FieldType::DateTime,
        KeyRole::None,
        true,
    )]);
    assert_eq!(default_rule(&schema.columns[0]), MaskRule::DateToYear);
}

#[test]
fn shr_8_policy_masks_a_row_in_column_order() {
    let schema = residents();
    let policy = MaskPolicy::default()
        .with("name", MaskRule::Pseudonym)
        .with("sex", MaskRule::Suppress);
    let masked = policy.apply(&schema, &resident_row(), KEY);
    assert_eq!(
        masked,
        vec![
            Value::Text("110105********002X".into()),
            Value::Text(text(MaskRule::Pseudonym, "欧阳娜娜")),
            Value::Text("138****1234".into()),
            Value::Text("北京市朝阳区****".into()),
            Value::Text("1949".into()),
            Value::Null,
            Value::Null,
            Value::Text("110105".into()),
            Value::Text("91110000100000000X".into()),
            Value::Text("110105********0021".into()),
            Value::Integer(76),
        ]
    );
    // A short row gets nulls; values beyond the schema never leave.
    let short = policy.apply(&schema, &resident_row()[..2], KEY);
    assert_eq!(short.len(), schema.columns.len());
    assert!(short[2..].iter().all(Value::is_null));
    let mut long = resident_row();
    long.push(Value::Text("extra".into()));
    assert_eq!(
        policy.apply(&schema, &long, KEY).len(),
        schema.columns.len()
    );
}

#[test]
fn shr_8_policy_refuses_unknown_columns_and_clear_citizen_ids() {
    let schema = residents();
    assert_eq!(MaskPolicy::default().validate(&schema, false), Ok(()));

    let err = MaskPolicy::default()
        .with("salary", MaskRule::Suppress)
        .validate(&schema, true)
        .unwrap_err();
    assert_eq!(
        err,
        MaskPolicyError::UnknownColumn {
            column: "salary".into()
        }
    );
    assert_eq!(err.code(), "masking.unknown_column");
    assert!(err.message_zh().contains("salary") && err.message_zh().contains("不在数据表中"));
    assert!(err.message_en().contains("'salary'"));

    let clear = MaskPolicy::default().with("id_no", MaskRule::Clear);
    let err = clear.validate(&schema, false).unwrap_err();
    assert_eq!(err.code(), "masking.clear_identifier");
    assert!(err.message_zh().contains("公民身份号码") && err.message_en().contains("SHR-8"));
    assert_eq!(clear.validate(&schema, true), Ok(()), "verification grants");

    // Revealing an identifier by a wide partial rule, or through a column that
    // holds IDs without the key role, is refused as well.
    let wide = MaskPolicy::default().with(
        "id_no",
        MaskRule::Partial {
            keep_start: 14,
            keep_end: 4,
        },
    );
    assert_eq!(
        wide.validate(&schema, false).unwrap_err().code(),
        "masking.clear_identifier"
    );
    let narrow = MaskPolicy::default().with(
        "id_no",
        MaskRule::Partial {
            keep_start: 6,
            keep_end: 4,
        },
    );
    assert_eq!(narrow.validate(&schema, false), Ok(()));
    assert_eq!(
        MaskPolicy::default()
            .with("zjhm", MaskRule::Clear)
            .validate(&schema, false)
            .unwrap_err()
            .code(),
        "masking.clear_identifier"
    );
    // Clearing other columns is the grant's business.
    assert_eq!(
        MaskPolicy::default()
            .with("name", MaskRule::Clear)
            .validate(&schema, false),
        Ok(())
    );
}

#[test]
fn mask_rules_round_trip_keys_labels_and_serde() {
    for rule in MaskRule::all() {
        assert_eq!(MaskRule::parse(rule.key()), Some(*rule));
        assert_eq!(MaskRule::parse(&rule.to_string()), Some(*rule));
        assert!(!rule.label_zh().is_empty() && !rule.label_en().is_empty());
        let json = serde_json::to_string(rule).unwrap();
        assert_eq!(serde_json::from_str::<MaskRule>(&json).unwrap(), *rule);
    }
    let partial = MaskRule::Partial {
        keep_start: 2,
        keep_end: 5,
    };
    assert_eq!(partial.to_string(), "partial:2:5");
    assert_eq!(MaskRule::parse("partial:2:5"), Some(partial));
    assert_eq!(MaskRule::parse("partial:2"), None);
    assert_eq!(MaskRule::parse("partial:2:5:1"), None);
    assert_eq!(MaskRule::parse("partial:300:1"), None);
    assert_eq!(MaskRule::parse("CitizenId"), None);
    assert_eq!(
        serde_json::to_string(&MaskRule::DateToYear).unwrap(),
        "\"date_to_year\""
    );

    let policy: MaskPolicy = serde_json::from_str(
        r#"{"overrides": {"name": "pseudonym", "phone": {"partial": {"keep_start": 3, "keep_end": 4}}}}"#,
    )
    .unwrap();
    assert_eq!(
        policy,
        MaskPolicy::default()
            .with("name", MaskRule::Pseudonym)
            .with(
                "phone",
                MaskRule::Partial {
                    keep_start: 3,
                    keep_end: 4
                }
            )
    );
    assert!(serde_json::from_str::<MaskPolicy>(r#"{"rules": {}}"#).is_err());
    assert_eq!(
        serde_json::from_str::<MaskPolicy>("{}").unwrap(),
        MaskPolicy::default()
    );
}
