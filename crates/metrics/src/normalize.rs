//! Maps free-text model outputs to a label set.
//!
//! In order: (1) the whole text is a label or synonym once case and punctuation are dropped
//! ("speech.", "NONSPEECH"); (2) the first clause is ("SPEECH\nThe clip has…"); (3) label phrases
//! found in the text, where a mention preceded by a negation cue in the same clause ("there is no
//! speech") means the label's negation. If every resolved mention agrees, that label wins;
//! otherwise (nothing found, or a contradiction) the output is `unknown` (`None`).

use std::collections::HashMap;

use crate::labels::{compact, LabelSet};

/// Determiner-like negations reach a mention up to 3 words later ("no clear human speech") but not
/// across a sentence ("no doubt it is speech").
const SHORT_NEGATIONS: &[&str] = &["no", "non", "none", "nothing", "zero", "nor", "neither"];
/// Verbal negations reach up to 4 words ("does not contain any human speech").
const LONG_NEGATIONS: &[&str] = &[
    "not", "without", "never", "lacks", "lacking", "absence", "isn", "doesn", "don", "didn",
    "wasn", "aren", "weren", "hasn", "haven", "cannot", "cant", "isnt", "doesnt", "dont",
];
/// Words right after a mention that negate it ("speech is absent").
const TRAILING_NEGATIONS: &[&str] = &["absent", "missing", "undetected"];

/// A compiled label set for repeated normalization.
#[derive(Debug, Clone)]
pub struct Normalizer {
    labels: LabelSet,
    exact: HashMap<String, usize>,
    /// (tokens, label), longest phrases first so "non speech" beats "speech".
    phrases: Vec<(Vec<String>, usize)>,
}

struct Mention {
    label: usize,
    start: usize,
    end: usize,
}

impl Normalizer {
    pub fn new(labels: LabelSet) -> Self {
        let mut exact = HashMap::new();
        let mut phrases = Vec::new();
        for (index, spec) in labels.specs().iter().enumerate() {
            for phrase in std::iter::once(&spec.name).chain(&spec.synonyms) {
                let tokens = words(phrase);
                let joined = compact(phrase);
                exact.insert(joined.clone(), index);
                if tokens.len() > 1 {
                    phrases.push((vec![joined], index));
                }
                phrases.push((tokens, index));
            }
        }
        phrases.sort_by_key(|(tokens, _)| std::cmp::Reverse(tokens.len()));
        Normalizer {
            labels,
            exact,
            phrases,
        }
    }

    pub fn labels(&self) -> &LabelSet {
        &self.labels
    }

    /// Strict match: the text equals a label name or synonym up to case, spaces and punctuation.
    pub fn exact(&self, text: &str) -> Option<usize> {
        self.exact.get(&compact(text)).copied()
    }

    /// Free-text match; `None` means unparseable or contradictory (`unknown`).
    pub fn normalize(&self, text: &str) -> Option<usize> {
        if let Some(label) = self.exact(text) {
            return Some(label);
        }
        let clauses = clauses(text);
        if let Some(label) = clauses.first().and_then(|c| self.exact(&c.join(" "))) {
            return Some(label);
        }
        let mut verdict = None;
        for clause in &clauses {
            for resolved in self.resolve_clause(clause) {
                match verdict {
                    None => verdict = Some(resolved),
                    Some(previous) if previous != resolved => return None,
                    Some(_) => {}
                }
            }
        }
        verdict
    }

    /// Labels meant by the mentions in one clause (negated mentions mapped to their negation).
    fn resolve_clause(&self, tokens: &[String]) -> Vec<usize> {
        let mentions = self.find_mentions(tokens);
        let mut in_mention = vec![false; tokens.len()];
        for mention in &mentions {
            in_mention[mention.start..mention.end].fill(true);
        }
        let negates = |cue: usize, mention_start: usize| {
            let word = tokens[cue].as_str();
            let distance = mention_start - cue;
            !in_mention[cue]
                && ((distance <= 3 && SHORT_NEGATIONS.contains(&word))
                    || (distance <= 4 && LONG_NEGATIONS.contains(&word)))
        };
        mentions
            .iter()
            .filter_map(|mention| {
                let negated_before = (mention.start.saturating_sub(4)..mention.start)
                    .any(|i| negates(i, mention.start));
                let negated_after = tokens
                    .get(mention.end..(mention.end + 2).min(tokens.len()))
                    .is_some_and(|after| {
                        after
                            .iter()
                            .any(|t| TRAILING_NEGATIONS.contains(&t.as_str()))
                    });
                if negated_before || negated_after {
                    self.labels.negation_of(mention.label)
                } else {
                    Some(mention.label)
                }
            })
            .collect()
    }

    fn find_mentions(&self, tokens: &[String]) -> Vec<Mention> {
        let mut mentions = Vec::new();
        let mut start = 0;
        while start < tokens.len() {
            let found = self.phrases.iter().find(|(phrase, _)| {
                tokens.len() - start >= phrase.len()
                    && phrase.iter().zip(&tokens[start..]).all(|(a, b)| a == b)
            });
            match found {
                Some((phrase, label)) => {
                    mentions.push(Mention {
                        label: *label,
                        start,
                        end: start + phrase.len(),
                    });
                    start += phrase.len();
                }
                None => start += 1,
            }
        }
        mentions
    }
}

/// Lowercase alphanumeric words.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Clauses split at sentence punctuation and line breaks, each as words; empty clauses dropped.
fn clauses(text: &str) -> Vec<Vec<String>> {
    text.split(['.', '!', '?', ';', ':', ',', '\n'])
        .map(words)
        .filter(|w| !w.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::LabelSpec;

    fn speech() -> Normalizer {
        Normalizer::new(LabelSet::from_names(["SPEECH", "NON-SPEECH"]).unwrap())
    }

    #[test]
    fn speech_examples_from_the_issue() {
        let n = speech();
        let cases = [
            ("SPEECH", Some(0)),
            ("speech.", Some(0)),
            ("Non-speech", Some(1)),
            ("NONSPEECH", Some(1)),
            ("no speech", Some(1)),
            ("The audio contains human speech", Some(0)),
            ("There is no speech", Some(1)),
            ("The audio does not contain any human speech.", Some(1)),
            ("Answer: NON-SPEECH", Some(1)),
            ("SPEECH\nThe clip has a man talking over music.", Some(0)),
            ("It is speech, not non-speech.", Some(0)),
            ("No, there is speech in this clip.", Some(0)),
            ("Speech is absent; only birds.", Some(1)),
            ("I'm not sure.", None),
            ("", None),
            ("speech or non-speech, hard to say", None),
            ("speechless crowd", None),
            ("There is no doubt it is speech", Some(0)),
            ("There is no clear human speech", Some(1)),
        ];
        for (text, expected) in cases {
            assert_eq!(n.normalize(text), expected, "{text:?}");
        }
    }

    #[test]
    fn label_sets_are_data() {
        let specs = vec![
            LabelSpec {
                synonyms: vec!["positive".into(), "good".into()],
                ..LabelSpec::named("POS")
            },
            LabelSpec {
                synonyms: vec!["negative".into(), "bad".into()],
                ..LabelSpec::named("NEG")
            },
            LabelSpec::named("NEUTRAL"),
        ];
        let n = Normalizer::new(LabelSet::from_specs(specs).unwrap());
        assert_eq!(n.normalize("The review is positive"), Some(0));
        assert_eq!(n.normalize("Sentiment: bad!"), Some(1));
        assert_eq!(n.normalize("neutral"), Some(2));
        // three labels and no declared negation: "not good" cannot be resolved
        assert_eq!(n.normalize("not good"), None);
        assert_eq!(n.exact("Positive"), Some(0));
    }

    #[test]
    fn exact_matches_names_and_synonyms_only() {
        let n = speech();
        assert_eq!(n.exact(" non speech "), Some(1));
        assert_eq!(n.exact("There is speech"), None);
    }
}
