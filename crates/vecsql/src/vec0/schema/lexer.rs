//! Splits one `vec0(...)` argument into tokens. Lexing never fails: a character that starts no
//! token becomes a [`Token::Punct`], and the parser reports it where it is unexpected, which
//! gives better messages than a lexer error could.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token<'a> {
    /// `[A-Za-z_][A-Za-z0-9_]*`. A leading underscore lexes as a word so that the parser can
    /// say why `_emb` is not a valid column name.
    Word(&'a str),
    /// `[0-9]+(\.[0-9]+)?`
    Number(&'a str),
    /// A single-quoted string, quotes removed and `''` unescaped.
    Str(String),
    /// Any other character, including an unterminated quote.
    Punct(char),
}

impl Token<'_> {
    /// True for a word equal to `keyword` in ASCII case.
    pub(super) fn is_word(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(s) | Token::Number(s) => f.write_str(s),
            Token::Str(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Token::Punct(c) => write!(f, "{c}"),
        }
    }
}

pub(super) fn tokenize(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    // Scans ASCII only; any other character is taken whole, so slicing stays on char
    // boundaries.
    let run = |mut j: usize, ok: fn(u8) -> bool| {
        while j < bytes.len() && ok(bytes[j]) {
            j += 1;
        }
        j
    };
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if b.is_ascii_alphabetic() || b == b'_' {
            let end = run(i, |c| c.is_ascii_alphanumeric() || c == b'_');
            tokens.push(Token::Word(&text[i..end]));
            i = end;
        } else if b.is_ascii_digit() {
            let mut end = run(i, |c| c.is_ascii_digit());
            if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
                end = run(end + 1, |c| c.is_ascii_digit());
            }
            tokens.push(Token::Number(&text[i..end]));
            i = end;
        } else if b == b'\'' {
            match quoted(&text[i..]) {
                Some((value, len)) => {
                    tokens.push(Token::Str(value));
                    i += len;
                }
                None => {
                    tokens.push(Token::Punct('\''));
                    i += 1;
                }
            }
        } else {
            let c = text[i..].chars().next().unwrap_or('\u{fffd}');
            tokens.push(Token::Punct(c));
            i += c.len_utf8();
        }
    }
    tokens
}

/// `'...'` at the start of `text`: the unescaped content and the bytes consumed, or `None` when
/// the quote is not closed.
fn quoted(text: &str) -> Option<(String, usize)> {
    let mut value = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((at, c)) = chars.next() {
        if c != '\'' {
            value.push(c);
        } else if chars.peek().is_some_and(|&(_, next)| next == '\'') {
            value.push('\'');
            chars.next();
        } else {
            return Some((value, at + 1));
        }
    }
    None
}
