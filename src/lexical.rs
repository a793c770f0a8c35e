//! Where Python string literals span lines, found by a lexical scan of the text (no parser):
//! a line that starts inside a triple-quoted string is string content, not code. Used before
//! parsing (an `!` or `%` at the start of such a line is not an IPython escape) and when code
//! is re-indented (string contents keep their exact text).

/// For each line of `text` (as `str::lines` counts them), whether it starts inside a string.
/// Lines `skip` says are not Python (IPython escapes) are not scanned.
pub(crate) fn lines_inside_strings(text: &str, skip: impl Fn(&str) -> bool) -> Vec<bool> {
    let mut inside = Vec::new();
    // The open triple quote, if a multi-line string is open.
    let mut open: Option<&str> = None;
    for line in text.lines() {
        inside.push(open.is_some());
        if open.is_none() && skip(line) {
            continue;
        }
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if let Some(quote) = open {
                if bytes[i..].starts_with(quote.as_bytes()) {
                    open = None;
                    i += 3;
                } else {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                continue;
            }
            match bytes[i] {
                b'#' => break,
                b'"' | b'\'' => {
                    let triple = if bytes[i] == b'"' { "\"\"\"" } else { "'''" };
                    if bytes[i..].starts_with(triple.as_bytes()) {
                        open = Some(triple);
                        i += 3;
                    } else {
                        // A one-line string: skip to its closing quote.
                        let quote = bytes[i];
                        i += 1;
                        while i < bytes.len() && bytes[i] != quote {
                            i += if bytes[i] == b'\\' { 2 } else { 1 };
                        }
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::lines_inside_strings;

    #[test]
    fn lines_of_triple_quoted_strings_are_found() {
        let text = "x = '''\n%(a)s\n!b'''\ny = \"# not '''\"\n# '''\nz = \"\"\"a\\\"\"\"\"\n!ls\n";
        assert_eq!(
            lines_inside_strings(text, |l| l.starts_with('!')),
            vec![false, true, true, false, false, false, false]
        );
    }
}
