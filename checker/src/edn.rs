//! A reader for EDN, the notation Jepsen and Knossos record histories in, into JSON values.
//!
//! Enough of EDN for recorded histories: maps, vectors, lists, sets, keywords, strings,
//! integers, floats, `nil`, booleans, symbols, characters, tagged literals (`#inst "..."`
//! reads as its string), `#_` discards, `;` comments and commas as whitespace. Keywords and
//! symbols become strings without the colon (`:read` is `"read"`), sets and lists become
//! arrays, map keys become strings (a non-string key is written as its JSON text).

use serde_json::{Map, Number, Value};

/// Why EDN text could not be read, and on which line (from 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct EdnError {
    pub line: usize,
    pub reason: String,
}

/// Read every top-level form of `text`, each with the line it starts on.
pub fn read_all(text: &str) -> Result<Vec<(usize, Value)>, EdnError> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        depth: 0,
    };
    let mut forms = Vec::new();
    loop {
        reader.skip_whitespace();
        if reader.pos >= reader.bytes.len() {
            return Ok(forms);
        }
        let line = reader.line;
        if let Some(value) = reader.form()? {
            forms.push((line, value));
        }
    }
}

/// Read the items of a recorded history: every top-level form, except that a top-level vector
/// or list contributes its elements, each with the line it starts on. So a file holding one
/// vector of op maps and a file holding one op map per line read alike.
pub fn read_items(text: &str) -> Result<Vec<(usize, Value)>, EdnError> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        depth: 0,
    };
    let mut items = Vec::new();
    loop {
        reader.skip_whitespace();
        let Some(b) = reader.peek() else {
            return Ok(items);
        };
        if b == b'[' || b == b'(' {
            let close = if b == b'[' { b']' } else { b')' };
            let open_line = reader.line;
            reader.bump();
            loop {
                reader.skip_whitespace();
                match reader.peek() {
                    None => {
                        return reader.error(format!("unclosed vector opened on line {open_line}"));
                    }
                    Some(c) if c == close => {
                        reader.bump();
                        break;
                    }
                    Some(_) => {
                        let line = reader.line;
                        if let Some(v) = reader.form()? {
                            items.push((line, v));
                        }
                    }
                }
            }
        } else {
            let line = reader.line;
            if let Some(v) = reader.form()? {
                items.push((line, v));
            }
        }
    }
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 256;

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    depth: usize,
}

impl Reader<'_> {
    fn error<T>(&self, reason: impl Into<String>) -> Result<T, EdnError> {
        Err(EdnError {
            line: self.line,
            reason: reason.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
        }
        Some(b)
    }

    fn skip_whitespace(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                    self.bump();
                }
                b';' => {
                    while let Some(b) = self.bump() {
                        if b == b'\n' {
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
    }

    /// One form; `None` for a `#_` discard that consumed its form.
    fn form(&mut self) -> Result<Option<Value>, EdnError> {
        self.skip_whitespace();
        let Some(b) = self.peek() else {
            return self.error("unexpected end of input");
        };
        match b {
            b'{' => self.nested(b'}', true).map(Some),
            b'[' => self.nested(b']', false).map(Some),
            b'(' => self.nested(b')', false).map(Some),
            b'}' | b']' | b')' => self.error(format!("unexpected {:?}", b as char)),
            b'"' => self.string().map(Some),
            b'\\' => self.character().map(Some),
            b'#' => self.dispatch(),
            _ => self.atom().map(Some),
        }
    }

    fn nested(&mut self, close: u8, is_map: bool) -> Result<Value, EdnError> {
        let open_line = self.line;
        self.bump();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.error("nesting too deep");
        }
        let mut items = Vec::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                None => {
                    return self.error(format!(
                        "unclosed {:?} opened on line {open_line}",
                        match close {
                            b'}' => '{',
                            b']' => '[',
                            _ => '(',
                        }
                    ));
                }
                Some(b) if b == close => {
                    self.bump();
                    break;
                }
                Some(_) => {
                    if let Some(v) = self.form()? {
                        items.push(v);
                    }
                }
            }
        }
        self.depth -= 1;
        if !is_map {
            return Ok(Value::Array(items));
        }
        if items.len() % 2 != 0 {
            return self.error(format!(
                "map opened on line {open_line} has an odd number of forms"
            ));
        }
        let mut map = Map::new();
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            let key = match k {
                Value::String(s) => s,
                other => other.to_string(),
            };
            map.insert(key, v);
        }
        Ok(Value::Object(map))
    }

    fn string(&mut self) -> Result<Value, EdnError> {
        let start_line = self.line;
        self.bump();
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(b) = self.bump() else {
                return Err(EdnError {
                    line: start_line,
                    reason: "unterminated string".into(),
                });
            };
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(e) = self.bump() else {
                        return self.error("unterminated escape in string");
                    };
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'u' => {
                            let hex = self.take(4)?;
                            let c = u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .unwrap_or(char::REPLACEMENT_CHARACTER);
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        other => return self.error(format!("bad escape \\{}", other as char)),
                    }
                }
                _ => out.push(b),
            }
        }
        match String::from_utf8(out) {
            Ok(s) => Ok(Value::String(s)),
            Err(_) => self.error("string is not valid UTF-8"),
        }
    }

    fn take(&mut self, n: usize) -> Result<String, EdnError> {
        let mut s = String::new();
        for _ in 0..n {
            match self.bump() {
                Some(b) => s.push(b as char),
                None => return self.error("unexpected end of input"),
            }
        }
        Ok(s)
    }

    fn character(&mut self) -> Result<Value, EdnError> {
        self.bump();
        let token = self.token();
        let c = match token.as_str() {
            "newline" => "\n".to_owned(),
            "space" => " ".to_owned(),
            "tab" => "\t".to_owned(),
            "return" => "\r".to_owned(),
            "" => match self.bump() {
                Some(b) => (b as char).to_string(),
                None => return self.error("unexpected end of input after \\"),
            },
            t => t.to_owned(),
        };
        Ok(Value::String(c))
    }

    fn dispatch(&mut self) -> Result<Option<Value>, EdnError> {
        self.bump();
        match self.peek() {
            Some(b'{') => self.nested(b'}', false).map(Some),
            Some(b'[') => self.nested(b']', false).map(Some),
            Some(b'_') => {
                self.bump();
                self.form()?;
                Ok(None)
            }
            Some(b) if is_symbol_start(b) => {
                // A tagged literal: `#inst "..."`, `#uuid "..."`; keep the tagged form.
                self.token();
                loop {
                    if let Some(v) = self.form()? {
                        return Ok(Some(v));
                    }
                }
            }
            _ => self.error("unsupported # dispatch"),
        }
    }

    fn token(&mut self) -> String {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_whitespace()
                || matches!(
                    b,
                    b',' | b'{' | b'}' | b'[' | b']' | b'(' | b')' | b'"' | b';'
                )
            {
                break;
            }
            self.bump();
        }
        String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned()
    }

    fn atom(&mut self) -> Result<Value, EdnError> {
        let token = self.token();
        if token.is_empty() {
            return self.error(format!("unexpected {:?}", self.peek().map(|b| b as char)));
        }
        match token.as_str() {
            "nil" => return Ok(Value::Null),
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            _ => {}
        }
        if let Some(name) = token.strip_prefix(':') {
            if name.is_empty() {
                return self.error("empty keyword");
            }
            return Ok(Value::String(name.to_owned()));
        }
        let first = token.as_bytes()[0];
        let numeric = first.is_ascii_digit()
            || ((first == b'-' || first == b'+')
                && token.len() > 1
                && token.as_bytes()[1].is_ascii_digit());
        if numeric {
            return self.number(&token);
        }
        Ok(Value::String(token))
    }

    fn number(&self, token: &str) -> Result<Value, EdnError> {
        let body = token.strip_suffix(['N', 'M']).unwrap_or(token);
        let body = body.strip_prefix('+').unwrap_or(body);
        if let Ok(i) = body.parse::<i64>() {
            return Ok(Value::Number(i.into()));
        }
        if let Ok(u) = body.parse::<u64>() {
            return Ok(Value::Number(u.into()));
        }
        if let Some((n, d)) = body.split_once('/')
            && let (Ok(n), Ok(d)) = (n.parse::<f64>(), d.parse::<f64>())
            && let Some(x) = Number::from_f64(n / d)
        {
            return Ok(Value::Number(x));
        }
        match body.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(x) => Ok(Value::Number(x)),
            None => self.error(format!("bad number {token:?}")),
        }
    }
}

fn is_symbol_start(b: u8) -> bool {
    b.is_ascii_alphabetic()
        || matches!(
            b,
            b'*' | b'!' | b'_' | b'?' | b'$' | b'%' | b'&' | b'=' | b'<' | b'>' | b'.'
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_jepsen_op() {
        let text = "; comment\n[{:process 4, :type :invoke, :f :cas, :value [0 -2]}\n {:process :nemesis :type :info :f :start :value \"Cut off {:n2 #{:n3}}\"}]";
        let forms = read_all(text).unwrap();
        assert_eq!(forms.len(), 1);
        assert_eq!(forms[0].0, 2);
        assert_eq!(
            forms[0].1,
            json!([
                {"process": 4, "type": "invoke", "f": "cas", "value": [0, -2]},
                {"process": "nemesis", "type": "info", "f": "start", "value": "Cut off {:n2 #{:n3}}"}
            ])
        );
    }

    #[test]
    fn reads_sets_tags_discards_and_numbers() {
        let forms =
            read_all("#{:a :b} #inst \"2020\" #_ ignored 1.5 12N nil true \\a (1 2)").unwrap();
        let values: Vec<Value> = forms.into_iter().map(|(_, v)| v).collect();
        assert_eq!(
            values,
            vec![
                json!(["a", "b"]),
                json!("2020"),
                json!(1.5),
                json!(12),
                json!(null),
                json!(true),
                json!("a"),
                json!([1, 2])
            ]
        );
    }

    #[test]
    fn items_flatten_one_top_level_vector() {
        let items = read_items("; x\n[{:a 1}\n {:a 2}]\n{:a 3}").unwrap();
        let lines: Vec<usize> = items.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![2, 3, 4]);
        assert_eq!(items[2].1, json!({"a": 3}));
        assert!(read_items("[{:a 1}").is_err());
    }

    #[test]
    fn errors_name_the_line() {
        let err = read_all("{:a 1}\n{:b\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.reason.contains("unclosed"), "{err}");
        assert!(read_all("{:a}").unwrap_err().reason.contains("odd"));
        assert!(read_all("\"abc").is_err());
        assert!(read_all(")").is_err());
        assert_eq!(
            read_all(&"[".repeat(1000)).unwrap_err().reason,
            "nesting too deep"
        );
    }
}
