//! Incremental text output: stop strings are searched in the decoded text, and the streamed
//! deltas hold back anything that could still become a stop string or an unfinished UTF-8 char.

/// Tracks what was streamed and whether a stop string appeared.
#[derive(Debug, Clone)]
pub struct StopScanner {
    stops: Vec<String>,
    emitted: usize,
    stopped_at: Option<usize>,
}

impl StopScanner {
    pub fn new(stops: &[String]) -> Self {
        let stops = stops.iter().filter(|s| !s.is_empty()).cloned().collect();
        Self {
            stops,
            emitted: 0,
            stopped_at: None,
        }
    }

    /// Feeds the full text decoded so far; returns the new text that is safe to stream.
    pub fn update(&mut self, text: &str) -> String {
        if self.stopped_at.is_some() {
            return String::new();
        }
        let start = floor_boundary(text, self.emitted);
        if let Some(at) = self.first_stop(text, start) {
            self.stopped_at = Some(at);
            return self.emit(text, at);
        }
        let safe = self.safe_end(text).max(start);
        self.emit(text, safe)
    }

    /// The rest of the text once generation ended without a stop string.
    pub fn finish(&mut self, text: &str) -> String {
        let end = self.stopped_at.unwrap_or(text.len());
        self.emit(text, end)
    }

    /// Byte offset where the output ends: the first stop string, if any.
    pub fn stopped_at(&self) -> Option<usize> {
        self.stopped_at
    }

    /// Final text: everything before the stop string.
    pub fn final_text<'a>(&self, text: &'a str) -> &'a str {
        &text[..floor_boundary(text, self.stopped_at.unwrap_or(text.len()))]
    }

    fn emit(&mut self, text: &str, end: usize) -> String {
        let start = floor_boundary(text, self.emitted);
        let end = floor_boundary(text, end);
        if end <= start {
            return String::new();
        }
        self.emitted = end;
        text[start..end].to_string()
    }

    /// Earliest stop string that ends after `from` (a stop may straddle already streamed text).
    fn first_stop(&self, text: &str, from: usize) -> Option<usize> {
        let longest = self.stops.iter().map(String::len).max()?;
        let search_from = floor_boundary(text, from.saturating_sub(longest));
        self.stops
            .iter()
            .filter_map(|s| {
                text[search_from..]
                    .find(s.as_str())
                    .map(|i| search_from + i)
            })
            .min()
    }

    /// End of the prefix that can no longer change: holds back a trailing partial stop string and
    /// a trailing U+FFFD (bytes of a character whose remaining bytes have not been generated).
    fn safe_end(&self, text: &str) -> usize {
        let mut end = text.len();
        if text.ends_with('\u{FFFD}') {
            end -= '\u{FFFD}'.len_utf8();
        }
        let held = self
            .stops
            .iter()
            .map(|s| longest_suffix_prefix(&text[..end], s))
            .max()
            .unwrap_or(0);
        end - held
    }
}

/// Length of the longest suffix of `text` that is a proper prefix of `stop`.
fn longest_suffix_prefix(text: &str, stop: &str) -> usize {
    (1..stop.len())
        .rev()
        .filter(|&n| n <= text.len() && stop.is_char_boundary(n))
        .find(|&n| text.ends_with(&stop[..n]))
        .unwrap_or(0)
}

fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(stops: &[&str], pieces: &[&str]) -> (Vec<String>, String, Option<usize>) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut scanner = StopScanner::new(&stops);
        let mut text = String::new();
        let mut deltas = Vec::new();
        for piece in pieces {
            text.push_str(piece);
            deltas.push(scanner.update(&text));
            if scanner.stopped_at().is_some() {
                break;
            }
        }
        deltas.push(scanner.finish(&text));
        (
            deltas,
            scanner.final_text(&text).to_string(),
            scanner.stopped_at(),
        )
    }

    #[test]
    fn stop_string_is_cut_and_not_streamed() {
        let (deltas, text, at) = stream(&["\n\n"], &["Paris", " is", "\n", "\nMore"]);
        assert_eq!(text, "Paris is");
        assert_eq!(deltas.concat(), "Paris is");
        assert_eq!(deltas, vec!["Paris", " is", "", "", ""]);
        assert_eq!(at, Some(8));
    }

    #[test]
    fn partial_stop_is_released_when_it_does_not_complete() {
        let (deltas, text, at) = stream(&["END"], &["a E", "N", "x"]);
        assert_eq!(deltas, vec!["a ", "", "ENx", ""]);
        assert_eq!(text, "a ENx");
        assert_eq!(at, None);
    }

    #[test]
    fn stop_across_tokens_and_earliest_of_several() {
        let (_, text, _) = stream(&["world", "lo"], &["hel", "lo wor", "ld"]);
        assert_eq!(text, "hel");
    }

    #[test]
    fn unfinished_utf8_is_held_back() {
        let (deltas, text, _) = stream(&[], &["caf", "\u{FFFD}", "é!"]);
        assert_eq!(deltas[1], "");
        assert_eq!(text, "caf\u{FFFD}é!");
        let mut s = StopScanner::new(&[]);
        assert_eq!(s.update("caf\u{FFFD}"), "caf");
        assert_eq!(s.update("café"), "é");
    }
}
