//! A small RDF graph of named resources and its two serialisations, Turtle and
//! JSON-LD, written by hand: both come from the same graph, so they say the same.
//! Every node is an IRI (no blank nodes); predicates and classes are compact names
//! over [`PREFIXES`].
use std::collections::HashMap;

use serde_json::{json, Map, Value};

/// The prefixes of every compact name used, in the order the documents declare them.
pub const PREFIXES: &[(&str, &str)] = &[
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("dct", "http://purl.org/dc/terms/"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("vcard", "http://www.w3.org/2006/vcard/ns#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("hydra", "http://www.w3.org/ns/hydra/core#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
];

/// The object of a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Iri(String),
    /// A string, with a language tag (`zh`, `en`) or a datatype (`xsd:date`) or neither.
    Literal {
        value: String,
        lang: Option<&'static str>,
        datatype: Option<&'static str>,
    },
}

/// One subject: its classes and its statements, in the order they were made.
#[derive(Debug, Clone)]
pub struct Resource {
    pub iri: String,
    pub classes: Vec<&'static str>,
    pub statements: Vec<(&'static str, Object)>,
}

impl Resource {
    /// `predicate` → the resource named `iri`.
    pub fn link(&mut self, predicate: &'static str, iri: impl AsRef<str>) -> &mut Self {
        self.statements
            .push((predicate, Object::Iri(iri_ref(iri.as_ref()))));
        self
    }

    /// `predicate` → a string in a language.
    pub fn text(&mut self, predicate: &'static str, value: &str, lang: &'static str) -> &mut Self {
        self.literal(predicate, value, Some(lang), None)
    }

    /// `predicate` → a string with no language (an identifier, a number as text).
    pub fn plain(&mut self, predicate: &'static str, value: &str) -> &mut Self {
        self.literal(predicate, value, None, None)
    }

    /// `predicate` → a typed value (`xsd:dateTime`, `xsd:date`, `xsd:integer` …).
    pub fn typed(
        &mut self,
        predicate: &'static str,
        value: &str,
        datatype: &'static str,
    ) -> &mut Self {
        self.literal(predicate, value, None, Some(datatype))
    }

    fn literal(
        &mut self,
        predicate: &'static str,
        value: &str,
        lang: Option<&'static str>,
        datatype: Option<&'static str>,
    ) -> &mut Self {
        self.statements.push((
            predicate,
            Object::Literal {
                value: value.to_string(),
                lang,
                datatype,
            },
        ));
        self
    }

    /// The statements grouped by predicate, predicates in first-use order.
    fn grouped(&self) -> Vec<(&'static str, Vec<&Object>)> {
        let mut out: Vec<(&'static str, Vec<&Object>)> = Vec::new();
        for (p, o) in &self.statements {
            match out.iter_mut().find(|(q, _)| q == p) {
                Some((_, objects)) => objects.push(o),
                None => out.push((p, vec![o])),
            }
        }
        out
    }
}

/// Resources in the order they were first described; each IRI described once.
#[derive(Debug, Default)]
pub struct Graph {
    resources: Vec<Resource>,
    index: HashMap<String, usize>,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts describing `iri` as a `class`; `None` when it is already described
    /// (a publisher, a format, a licence shared by many datasets).
    pub fn describe(&mut self, iri: &str, class: &'static str) -> Option<&mut Resource> {
        let iri = iri_ref(iri);
        if self.index.contains_key(&iri) {
            return None;
        }
        self.index.insert(iri.clone(), self.resources.len());
        self.resources.push(Resource {
            iri,
            classes: vec![class],
            statements: Vec::new(),
        });
        self.resources.last_mut()
    }

    /// The resource `iri`, described before.
    pub fn get_mut(&mut self, iri: &str) -> Option<&mut Resource> {
        let i = *self.index.get(&iri_ref(iri))?;
        self.resources.get_mut(i)
    }

    /// The graph as Turtle (RDF 1.1), UTF-8.
    pub fn to_turtle(&self) -> String {
        let mut out = String::new();
        for (prefix, ns) in PREFIXES {
            out.push_str(&format!("@prefix {prefix}: <{ns}> .\n"));
        }
        for r in &self.resources {
            out.push('\n');
            out.push_str(&format!("<{}>", r.iri));
            let mut first = true;
            let mut next = |out: &mut String| {
                out.push_str(if first { "\n    " } else { " ;\n    " });
                first = false;
            };
            if !r.classes.is_empty() {
                next(&mut out);
                out.push_str("a ");
                out.push_str(&r.classes.join(", "));
            }
            for (p, objects) in r.grouped() {
                next(&mut out);
                out.push_str(p);
                out.push(' ');
                let written: Vec<String> = objects.iter().map(|o| turtle_object(o)).collect();
                out.push_str(&written.join(", "));
            }
            out.push_str(" .\n");
        }
        out
    }

    /// The graph as JSON-LD 1.1: a `@context` declaring [`PREFIXES`] and a
    /// `@graph` of node objects keyed by compact names.
    pub fn to_json_ld(&self) -> Value {
        let context: Map<String, Value> = PREFIXES
            .iter()
            .map(|(p, ns)| (p.to_string(), Value::from(*ns)))
            .collect();
        let nodes: Vec<Value> = self
            .resources
            .iter()
            .map(|r| {
                let mut node = Map::new();
                node.insert("@id".into(), r.iri.clone().into());
                node.insert(
                    "@type".into(),
                    one_or_many(r.classes.iter().map(|c| json!(c))),
                );
                for (p, objects) in r.grouped() {
                    node.insert(
                        p.to_string(),
                        one_or_many(objects.into_iter().map(json_ld_object)),
                    );
                }
                Value::Object(node)
            })
            .collect();
        json!({ "@context": context, "@graph": nodes })
    }
}

fn one_or_many(values: impl Iterator<Item = Value>) -> Value {
    let mut values: Vec<Value> = values.collect();
    if values.len() == 1 {
        values.remove(0)
    } else {
        Value::Array(values)
    }
}

fn json_ld_object(o: &Object) -> Value {
    match o {
        Object::Iri(iri) => json!({ "@id": iri }),
        Object::Literal {
            value,
            lang: Some(lang),
            ..
        } => json!({ "@value": value, "@language": lang }),
        Object::Literal {
            value,
            datatype: Some(datatype),
            ..
        } => json!({ "@value": value, "@type": datatype }),
        Object::Literal { value, .. } => Value::from(value.as_str()),
    }
}

fn turtle_object(o: &Object) -> String {
    match o {
        Object::Iri(iri) => format!("<{iri}>"),
        Object::Literal {
            value,
            lang,
            datatype,
        } => {
            let mut s = turtle_string(value);
            if let Some(lang) = lang {
                s.push('@');
                s.push_str(lang);
            } else if let Some(datatype) = datatype {
                s.push_str("^^");
                s.push_str(datatype);
            }
            s
        }
    }
}

/// A Turtle string literal (`"…"`): quotes, backslashes and line breaks escaped,
/// every other control character as `\uXXXX`.
pub fn turtle_string(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('"');
    for c in value.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                s.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// An IRI as Turtle's `<…>` takes it: the characters it forbids (controls, space,
/// `<>"{}|^`\`) percent-encoded; everything else, non-ASCII included, kept.
pub fn iri_ref(iri: &str) -> String {
    let mut s = String::with_capacity(iri.len());
    for c in iri.chars() {
        if (c as u32) <= 0x20
            || c == '\u{7f}'
            || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\')
        {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                s.push_str(&format!("%{b:02X}"));
            }
        } else {
            s.push(c);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opn_7_turtle_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(
            turtle_string("说\"明\"\\ 一\n二\r\t\u{1}"),
            "\"说\\\"明\\\"\\\\ 一\\n二\\r\\t\\u0001\""
        );
    }

    #[test]
    fn opn_7_iris_percent_encode_what_turtle_forbids() {
        assert_eq!(
            iri_ref("http://h/a b<c>\"{|}^`\\d?x=公"),
            "http://h/a%20b%3Cc%3E%22%7B%7C%7D%5E%60%5Cd?x=公"
        );
    }

    #[test]
    fn opn_7_one_graph_two_serialisations() {
        let mut g = Graph::new();
        g.describe("http://h/d#x", "dcat:Dataset")
            .expect("new")
            .text("dct:title", "公交", "zh")
            .text("dct:title", "Bus \"lines\"", "en")
            .plain("dct:identifier", "410-000012")
            .typed("dct:modified", "2026-01-02T03:04:05Z", "xsd:dateTime")
            .link("dcat:landingPage", "http://h/d");
        assert!(g.describe("http://h/d#x", "dcat:Dataset").is_none());
        let ttl = g.to_turtle();
        assert!(ttl.contains("@prefix dcat: <http://www.w3.org/ns/dcat#> ."));
        assert!(ttl.contains(
            "<http://h/d#x>\n    a dcat:Dataset ;\n    dct:title \"公交\"@zh, \"Bus \\\"lines\\\"\"@en ;"
        ));
        assert!(ttl.contains("dct:modified \"2026-01-02T03:04:05Z\"^^xsd:dateTime ;"));
        assert!(ttl.ends_with("dcat:landingPage <http://h/d> .\n"));
        let ld = g.to_json_ld();
        assert_eq!(ld["@context"]["dct"], "http://purl.org/dc/terms/");
        let node = &ld["@graph"][0];
        assert_eq!(node["@id"], "http://h/d#x");
        assert_eq!(node["@type"], "dcat:Dataset");
        assert_eq!(node["dct:title"][1]["@value"], "Bus \"lines\"");
        assert_eq!(node["dct:title"][1]["@language"], "en");
        assert_eq!(node["dct:identifier"], "410-000012");
        assert_eq!(node["dct:modified"]["@type"], "xsd:dateTime");
        assert_eq!(node["dcat:landingPage"]["@id"], "http://h/d");
    }
}
