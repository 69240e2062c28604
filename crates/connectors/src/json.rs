//! COL-1: a JSON value that keeps object keys in source order (the workspace's serde_json does not), for HTTP records.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A parsed JSON value; objects keep their keys in the order the source sent them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// The number as plain text (no exponent): integers exactly, other numbers
    /// as the shortest text that reads back as the same `f64`.
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Json, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The value at a dot path: each part is an object key, or an index into
    /// an array. Takes the page apart rather than copying the records out.
    pub(crate) fn into_path(self, path: &str) -> Result<Json, String> {
        let mut here = self;
        if path.is_empty() {
            return Ok(here);
        }
        let parts: Vec<&str> = path.split('.').collect();
        for (depth, part) in parts.iter().enumerate() {
            let missing = || format!("the page has no \"{}\"", parts[..=depth].join("."));
            here = match here {
                Json::Object(fields) => fields
                    .into_iter()
                    .find(|(key, _)| key == part)
                    .map(|(_, value)| value)
                    .ok_or_else(missing)?,
                Json::Array(items) => part
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.into_iter().nth(i))
                    .ok_or_else(missing)?,
                _ => return Err(missing()),
            };
        }
        Ok(here)
    }

    /// The value as a text field: null is empty, strings as they are,
    /// numbers and booleans as plain text, arrays and objects as compact JSON.
    pub(crate) fn to_field(&self) -> String {
        match self {
            Json::Null => String::new(),
            Json::Bool(b) => b.to_string(),
            Json::Number(n) => n.clone(),
            Json::String(s) => s.clone(),
            Json::Array(_) | Json::Object(_) => self.to_string(),
        }
    }
}

impl fmt::Display for Json {
    /// Compact JSON text, keys in their original order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Number(n) => f.write_str(n),
            Json::String(s) => write_json_string(f, s),
            Json::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Json::Object(fields) => {
                f.write_str("{")?;
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write_json_string(f, key)?;
                    write!(f, ":{value}")?;
                }
                f.write_str("}")
            }
        }
    }
}

fn write_json_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    // serde_json escapes exactly as JSON requires and leaves 中文 as it is.
    let quoted = serde_json::to_string(s).map_err(|_| fmt::Error)?;
    f.write_str(&quoted)
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut fields: Vec<(String, Json)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Json>()? {
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(serde::de::Error::custom(format!(
                    "the key \"{key}\" appears twice in one object"
                )));
            }
            fields.push((key, value));
        }
        Ok(Json::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order_and_renders_fields() {
        let page = Json::parse(
            r#"{"data":{"items":[{"z":1,"a":"北京","m":null,"t":true,"f":1.5,"big":12345678901234,"n":{"b":2,"a":[1,"x"]}}]}}"#
                .as_bytes(),
        )
        .unwrap();
        let items = page.clone().into_path("data.items").unwrap();
        let Json::Array(items) = items else { panic!() };
        let Json::Object(fields) = &items[0] else {
            panic!()
        };
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["z", "a", "m", "t", "f", "big", "n"]);
        let values: Vec<String> = fields.iter().map(|(_, v)| v.to_field()).collect();
        assert_eq!(
            values,
            [
                "1",
                "北京",
                "",
                "true",
                "1.5",
                "12345678901234",
                r#"{"b":2,"a":[1,"x"]}"#
            ]
        );
        assert!(page
            .clone()
            .into_path("data.nope")
            .unwrap_err()
            .contains("data.nope"));
        assert_eq!(
            page.into_path("data.items.0.z").unwrap(),
            Json::Number("1".into())
        );
        assert!(Json::parse(br#"{"a":1,"a":2}"#).is_err());
        assert_eq!(
            Json::parse(b"1e20").unwrap().to_field(),
            "100000000000000000000"
        );
        assert_eq!(Json::parse(b"-0.25").unwrap().to_field(), "-0.25");
        assert_eq!(
            Json::parse(br#"["a\"b\n"]"#).unwrap().to_field(),
            r#"["a\"b\n"]"#
        );
    }
}
