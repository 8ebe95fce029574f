//! HTML text: escaping of everything taken from a run's files, and JSON shown as text.
//!
//! Every string that comes from a file of the run (node ids, message bodies, error texts,
//! checker explanations) reaches the page through [`Esc`], so node output can never become
//! markup. The page also forbids scripts outright (its Content-Security-Policy).

use std::fmt;

use serde_json::Value;

/// Text escaped for HTML (and SVG) element content and quoted attribute values.
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let mut last = 0;
        for (i, b) in s.bytes().enumerate() {
            let entity = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            f.write_str(&s[last..i])?;
            f.write_str(entity)?;
            last = i + 1;
        }
        f.write_str(&s[last..])
    }
}

/// `s` escaped, as a string.
pub fn esc(s: &str) -> String {
    Esc(s).to_string()
}

/// At most `max` bytes of `s`, cut at a character boundary; true when something was cut.
pub fn truncate(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

/// `value` pretty-printed as JSON, cut after `max` bytes with a note saying how much more
/// there is and where to find it.
pub fn pretty_json(value: &Value, max: usize) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("<{e}>"));
    let (head, cut) = truncate(&text, max);
    if cut {
        format!(
            "{head}\n… {} more bytes: the whole value is in results.json",
            text.len() - head.len()
        )
    } else {
        text
    }
}

/// A JSON value as one short line: strings bare, everything else as compact JSON, cut after
/// `max` bytes with an ellipsis.
pub fn short_json(value: &Value, max: usize) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let (head, cut) = truncate(&text, max);
    if cut { format!("{head}…") } else { text }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn escape(s: &str) -> String {
        Esc(s).to_string()
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("plain n0 → n1"), "plain n0 → n1");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn truncates_at_character_boundaries() {
        assert_eq!(truncate("héllo", 2), ("h", true));
        assert_eq!(truncate("héllo", 3), ("hé", true));
        assert_eq!(truncate("abc", 3), ("abc", false));
    }

    #[test]
    fn long_json_says_how_much_is_left_out() {
        let value = json!({"lost": (0..1000).collect::<Vec<_>>()});
        let text = pretty_json(&value, 100);
        assert!(text.starts_with("{\n  \"lost\": [\n"), "{text}");
        assert!(text.contains("more bytes: the whole value is in results.json"));
        assert!(text.len() < 200);
        assert_eq!(pretty_json(&json!(1), 100), "1");
        assert_eq!(short_json(&json!("a<b"), 10), "a<b");
        assert_eq!(short_json(&json!([1, 2, 3]), 4), "[1,2…");
    }
}
