//! Label sets are data: canonical names, optional synonyms and optional negation pairs.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};

/// One class: its canonical name, extra phrases that mean it, and (optionally) the label that a
/// negated mention of it means (`NON-SPEECH` for "no speech").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LabelSpec {
    pub name: String,
    #[serde(default)]
    pub synonyms: Vec<String>,
    #[serde(default)]
    pub negation: Option<String>,
}

impl LabelSpec {
    pub fn named(name: impl Into<String>) -> Self {
        LabelSpec {
            name: name.into(),
            ..LabelSpec::default()
        }
    }
}

/// An ordered, validated set of labels (class `i` is `labels[i]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSet {
    labels: Vec<LabelSpec>,
    /// For each label, the label a negated mention resolves to.
    negations: Vec<Option<usize>>,
}

/// Lowercase alphanumerics only: "Non-Speech." → "nonspeech".
pub fn compact(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

const NEGATION_PREFIXES: [&str; 3] = ["non", "no", "not"];

impl LabelSet {
    /// Labels from bare names, e.g. `["SPEECH", "NON-SPEECH"]`.
    pub fn from_names<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Result<Self> {
        Self::from_specs(names.into_iter().map(LabelSpec::named).collect())
    }

    /// Validates names and synonyms (non-empty, no phrase claimed by two labels) and resolves
    /// negations: explicit ones first, then `nonX`/`noX`/`notX` pairs, then, for two labels,
    /// each negates the other.
    pub fn from_specs(labels: Vec<LabelSpec>) -> Result<Self> {
        if labels.is_empty() {
            return Err(MetricsError::bad_input("the label set is empty"));
        }
        let mut owner: HashMap<String, usize> = HashMap::new();
        for (index, label) in labels.iter().enumerate() {
            for phrase in std::iter::once(&label.name).chain(&label.synonyms) {
                let key = compact(phrase);
                if key.is_empty() {
                    return Err(MetricsError::bad_input(format!(
                        "label phrase `{phrase}` has no letters or digits"
                    )));
                }
                if let Some(&other) = owner.get(&key) {
                    if other != index {
                        return Err(MetricsError::bad_input(format!(
                            "`{phrase}` is claimed by both `{}` and `{}`",
                            labels[other].name, label.name
                        )));
                    }
                }
                owner.insert(key, index);
            }
        }
        let negations = resolve_negations(&labels, &owner)?;
        Ok(LabelSet { labels, negations })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn specs(&self) -> &[LabelSpec] {
        &self.labels
    }

    pub fn names(&self) -> Vec<String> {
        self.labels.iter().map(|l| l.name.clone()).collect()
    }

    /// The label that "not <label>" means, if any.
    pub fn negation_of(&self, label: usize) -> Option<usize> {
        self.negations.get(label).copied().flatten()
    }
}

fn resolve_negations(
    labels: &[LabelSpec],
    owner: &HashMap<String, usize>,
) -> Result<Vec<Option<usize>>> {
    let mut negations = vec![None; labels.len()];
    for (index, label) in labels.iter().enumerate() {
        if let Some(target) = &label.negation {
            let other = owner.get(&compact(target)).copied().ok_or_else(|| {
                MetricsError::bad_input(format!(
                    "negation `{target}` of label `{}` is not a label",
                    label.name
                ))
            })?;
            negations[index] = Some(other);
        }
    }
    for (index, label) in labels.iter().enumerate() {
        let key = compact(&label.name);
        for prefix in NEGATION_PREFIXES {
            if let Some(&base) = owner.get(&format!("{prefix}{key}")) {
                negations[index].get_or_insert(base);
                negations[base].get_or_insert(index);
            }
        }
    }
    if labels.len() == 2 {
        negations[0].get_or_insert(1);
        negations[1].get_or_insert(0);
    }
    Ok(negations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_case_and_punctuation() {
        assert_eq!(compact("Non-Speech."), "nonspeech");
        assert_eq!(compact("  NON SPEECH "), "nonspeech");
        assert_eq!(compact("--"), "");
    }

    #[test]
    fn derives_negation_pairs_from_names() {
        let set = LabelSet::from_names(["MUSIC", "SPEECH", "NON-SPEECH"]).unwrap();
        assert_eq!(set.negation_of(1), Some(2));
        assert_eq!(set.negation_of(2), Some(1));
        assert_eq!(
            set.negation_of(0),
            None,
            "three labels: no implicit opposite"
        );
        let binary = LabelSet::from_names(["YES", "NO"]).unwrap();
        assert_eq!(binary.negation_of(0), Some(1));
    }

    #[test]
    fn explicit_negation_wins_and_must_exist() {
        let specs = vec![
            LabelSpec::named("A"),
            LabelSpec::named("B"),
            LabelSpec {
                negation: Some("b".into()),
                ..LabelSpec::named("C")
            },
        ];
        let set = LabelSet::from_specs(specs).unwrap();
        assert_eq!(set.negation_of(2), Some(1));
        let bad = vec![LabelSpec {
            negation: Some("Z".into()),
            ..LabelSpec::named("A")
        }];
        assert_eq!(LabelSet::from_specs(bad).unwrap_err().code(), "E_BAD_INPUT");
    }

    #[test]
    fn rejects_empty_and_ambiguous_sets() {
        assert!(LabelSet::from_names(Vec::<String>::new()).is_err());
        assert!(LabelSet::from_names(["speech", "SPEECH"]).is_err());
        assert!(LabelSet::from_names(["?"]).is_err());
        let clash = vec![
            LabelSpec {
                synonyms: vec!["voice".into()],
                ..LabelSpec::named("SPEECH")
            },
            LabelSpec {
                synonyms: vec!["Voice".into()],
                ..LabelSpec::named("OTHER")
            },
        ];
        assert!(LabelSet::from_specs(clash).is_err());
    }
}
