//! JSON written exactly as JavaScript's `JSON.stringify` writes it.
//!
//! twilio-node builds the token header and payload as JavaScript objects and
//! serialises them with `JSON.stringify`; the signature covers those bytes. To
//! produce the same token we must reproduce three JavaScript rules that
//! `serde_json` does not follow:
//!
//! - property order is insertion order, except that array-index keys
//!   (`"0"`, `"1"`, ...) come first in ascending numeric order;
//! - every number is an IEEE double printed by `Number.prototype.toString`
//!   (`1.0` prints as `1`, `1e21` as `1e+21`);
//! - assigning to an existing key replaces its value but keeps its position.
//!
//! String escaping is the same in both (`\"`, `\\`, the short escapes, and
//! `\u00xx` in lower case for other control characters; everything else raw),
//! so strings are escaped by `serde_json`.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value as a JavaScript engine holds it after `JSON.parse`.
#[derive(Debug, Clone, PartialEq)]
pub enum JsValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// Every JavaScript number is a double.
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<JsValue>),
    /// An object, with JavaScript's property order.
    Object(JsObject),
}

/// A JavaScript object: properties in insertion order, later assignments to
/// an existing key replacing the value in place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsObject {
    entries: Vec<(String, JsValue)>,
}

impl JsObject {
    /// An empty object (`{}`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` as `obj[key] = value` would.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<JsValue>) {
        let key = key.into();
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => *slot = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Builder form of [`JsObject::insert`].
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<JsValue>) -> Self {
        self.insert(key, value);
        self
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&JsValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Number of properties.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the object has no properties.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Parses JSON text as `JSON.parse` would (duplicate keys: the last value
    /// wins, at the first key's position). Fails unless the text is an object.
    pub fn from_json_str(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The object as `JSON.stringify(obj)` writes it.
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Properties in the order JavaScript enumerates them.
    fn ordered(&self) -> Vec<&(String, JsValue)> {
        let mut indexed: Vec<(u32, &(String, JsValue))> = Vec::new();
        let mut named = Vec::new();
        for entry in &self.entries {
            match array_index(&entry.0) {
                Some(index) => indexed.push((index, entry)),
                None => named.push(entry),
            }
        }
        indexed.sort_by_key(|(index, _)| *index);
        indexed.into_iter().map(|(_, e)| e).chain(named).collect()
    }

    fn write_json(&self, out: &mut String) {
        out.push('{');
        for (i, (key, value)) in self.ordered().into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(key, out);
            out.push(':');
            value.write_json(out);
        }
        out.push('}');
    }
}

impl JsValue {
    /// The value as `JSON.stringify(value)` writes it.
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            JsValue::Null => out.push_str("null"),
            JsValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            // JSON.stringify writes NaN and the infinities as null; -0 as 0.
            JsValue::Number(n) if !n.is_finite() => out.push_str("null"),
            JsValue::Number(n) if *n == 0.0 => out.push('0'),
            JsValue::Number(n) => out.push_str(ryu_js::Buffer::new().format_finite(*n)),
            JsValue::String(s) => write_string(s, out),
            JsValue::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            JsValue::Object(object) => object.write_json(out),
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    // serde_json's escaping of a Rust string matches JSON.stringify's for
    // well-formed strings (the only kind Rust has).
    out.push_str(&serde_json::Value::from(s).to_string());
}

/// `Some(n)` when `key` is a canonical array index (0 ..= 2^32 - 2), the keys
/// JavaScript enumerates before all others.
fn array_index(key: &str) -> Option<u32> {
    let canonical = key == "0" || (!key.starts_with('0') && !key.is_empty());
    if !canonical || !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u32>().ok().filter(|n| *n != u32::MAX)
}

impl From<&str> for JsValue {
    fn from(value: &str) -> Self {
        JsValue::String(value.to_owned())
    }
}

impl From<String> for JsValue {
    fn from(value: String) -> Self {
        JsValue::String(value)
    }
}

impl From<bool> for JsValue {
    fn from(value: bool) -> Self {
        JsValue::Bool(value)
    }
}

impl From<f64> for JsValue {
    fn from(value: f64) -> Self {
        JsValue::Number(value)
    }
}

impl From<u32> for JsValue {
    fn from(value: u32) -> Self {
        JsValue::Number(f64::from(value))
    }
}

impl From<JsObject> for JsValue {
    fn from(value: JsObject) -> Self {
        JsValue::Object(value)
    }
}

impl From<serde_json::Value> for JsValue {
    /// Numbers become doubles, as they would in JavaScript. Object order is
    /// the `serde_json::Map`'s (sorted unless `preserve_order` is enabled);
    /// use [`JsObject::from_json_str`] to keep the order of JSON text.
    fn from(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => JsValue::Null,
            serde_json::Value::Bool(b) => JsValue::Bool(b),
            serde_json::Value::Number(n) => JsValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => JsValue::String(s),
            serde_json::Value::Array(items) => {
                JsValue::Array(items.into_iter().map(JsValue::from).collect())
            }
            serde_json::Value::Object(map) => JsValue::Object(JsObject::from(map)),
        }
    }
}

impl From<serde_json::Map<String, serde_json::Value>> for JsObject {
    fn from(map: serde_json::Map<String, serde_json::Value>) -> Self {
        let mut object = JsObject::new();
        for (k, v) in map {
            object.insert(k, JsValue::from(v));
        }
        object
    }
}

impl<K: Into<String>, V: Into<JsValue>> FromIterator<(K, V)> for JsObject {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut object = JsObject::new();
        for (k, v) in iter {
            object.insert(k, v);
        }
        object
    }
}

impl<'de> Deserialize<'de> for JsValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsValueVisitor)
    }
}

impl<'de> Deserialize<'de> for JsObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match JsValue::deserialize(deserializer)? {
            JsValue::Object(object) => Ok(object),
            _ => Err(de::Error::custom("expected a JSON object")),
        }
    }
}

struct JsValueVisitor;

impl<'de> Visitor<'de> for JsValueVisitor {
    type Value = JsValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<JsValue, E> {
        Ok(JsValue::Null)
    }

    fn visit_none<E>(self) -> Result<JsValue, E> {
        Ok(JsValue::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<JsValue, E> {
        Ok(JsValue::Bool(v))
    }

    // JSON.parse turns every number into a double; so do we.
    #[allow(clippy::cast_precision_loss)]
    fn visit_i64<E>(self, v: i64) -> Result<JsValue, E> {
        Ok(JsValue::Number(v as f64))
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_u64<E>(self, v: u64) -> Result<JsValue, E> {
        Ok(JsValue::Number(v as f64))
    }

    fn visit_f64<E>(self, v: f64) -> Result<JsValue, E> {
        Ok(JsValue::Number(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<JsValue, E> {
        Ok(JsValue::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<JsValue, E> {
        Ok(JsValue::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(JsValue::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsValue, A::Error> {
        let mut object = JsObject::new();
        while let Some((key, value)) = map.next_entry::<String, JsValue>()? {
            object.insert(key, value);
        }
        Ok(JsValue::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertion_order_is_kept_for_named_keys() {
        let object = JsObject::new().with("b", "1").with("a", "2").with("c", "3");
        assert_eq!(object.to_json_string(), r#"{"b":"1","a":"2","c":"3"}"#);
    }

    #[test]
    fn array_index_keys_come_first_in_numeric_order() {
        let object =
            JsObject::from_json_str(r#"{"b":1,"10":2,"2":3,"01":4,"-1":5,"4294967295":6}"#)
                .unwrap();
        assert_eq!(
            object.to_json_string(),
            r#"{"2":3,"10":2,"b":1,"01":4,"-1":5,"4294967295":6}"#
        );
    }

    #[test]
    fn duplicate_key_keeps_first_position_and_last_value() {
        let object = JsObject::from_json_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(object.to_json_string(), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        let text = r#"[1.0,-0.0,0.5,1e21,1e-7,123456789012345678901,9007199254740993,1.5e300,-2]"#;
        let value: JsValue = serde_json::from_str(text).unwrap();
        assert_eq!(
            value.to_json_string(),
            "[1,0,0.5,1e+21,1e-7,123456789012345680000,9007199254740992,1.5e+300,-2]"
        );
    }

    #[test]
    fn non_finite_numbers_print_as_null() {
        assert_eq!(JsValue::Number(f64::NAN).to_json_string(), "null");
        assert_eq!(JsValue::Number(f64::INFINITY).to_json_string(), "null");
    }

    #[test]
    fn strings_escape_as_json_stringify() {
        let value = JsValue::from("q\"b\\s/\n\t\u{1}\u{7f}é\u{2028}😀");
        assert_eq!(
            value.to_json_string(),
            "\"q\\\"b\\\\s/\\n\\t\\u0001\u{7f}é\u{2028}😀\""
        );
    }

    #[test]
    fn non_object_text_is_rejected_as_object() {
        assert!(JsObject::from_json_str("[1]").is_err());
        assert!(JsObject::from_json_str("{").is_err());
    }
}
