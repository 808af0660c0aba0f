"""Golden fixture for the metrics core: random labels, predictions and conditions, scored by
scikit-learn. Writes tests/fixtures/metrics/{random_multiclass,random_binary}.{csv,parquet} and
expected.json. Run: /work/tools/ref/bin/python scripts/make_metrics_fixture.py

Reference: sklearn.metrics.{accuracy_score, balanced_accuracy_score, f1_score, confusion_matrix};
per-condition numbers are balanced_accuracy_score over each condition value's rows (pandas groupby);
ba_conditions_by_column is the mean over a column's values, ba_conditions_macro the mean over columns.
"""

import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "metrics"
warnings.filterwarnings("ignore")  # sklearn warns about classes only seen in predictions


def noisy_predictions(rng, truth, classes, extra, accuracy):
    """Keeps each label with probability `accuracy`, otherwise draws from classes + extra."""
    pool = np.array(list(classes) + list(extra))
    wrong = rng.choice(pool, size=len(truth))
    keep = rng.random(len(truth)) < accuracy
    return np.where(keep, truth, wrong)


def multiclass(rng):
    n = 3000
    classes = ["cat", "dog", "bird"]
    truth = rng.choice(classes, size=n, p=[0.5, 0.4, 0.1])
    return pd.DataFrame(
        {
            "label": truth,
            # "fish" is predicted but never true: sklearn drops it from balanced accuracy
            "pred": noisy_predictions(rng, truth, classes, ["fish"], 0.6),
            "snr": rng.choice(["-5", "0", "5", "10", "20"], size=n),
            "dur": rng.choice(["short", "long"], size=n),
            # 300 shards of ~10 rows: many miss the rare class (and take the per-column path)
            "shard": [f"s{i:03d}" for i in rng.integers(0, 300, size=n)],
        }
    )


def binary(rng):
    n = 1000
    classes = ["SPEECH", "NON-SPEECH"]
    truth = rng.choice(classes, size=n, p=[0.3, 0.7])
    condition = rng.choice([f"c{i}" for i in range(7)], size=n)
    # condition "music" holds only NON-SPEECH rows: a single-class group
    music = rng.random(n) < 0.05
    truth = np.where(music, "NON-SPEECH", truth)
    condition = np.where(music, "music", condition)
    return pd.DataFrame(
        {
            "label": truth,
            "pred": noisy_predictions(rng, truth, classes, [], 0.8),
            "condition": condition,
        }
    )


def finite_or_none(value):
    value = float(value)
    return value if math.isfinite(value) else None


def score(df, condition_cols):
    labels = sorted(set(df["label"]) | set(df["pred"]))
    y_true, y_pred = df["label"].to_numpy(), df["pred"].to_numpy()
    per_condition, by_column = {}, {}
    for col in condition_cols:
        values = {}
        for value, group in df.groupby(col):
            with np.errstate(all="ignore"):
                adjusted = balanced_accuracy_score(group["label"], group["pred"], adjusted=True)
            values[str(value)] = {
                "n": int(len(group)),
                "accuracy": float(accuracy_score(group["label"], group["pred"])),
                "balanced_accuracy": float(balanced_accuracy_score(group["label"], group["pred"])),
                "balanced_accuracy_adjusted": finite_or_none(adjusted),
            }
        per_condition[col] = values
        by_column[col] = float(np.mean([v["balanced_accuracy"] for v in values.values()]))
    return {
        "n": int(len(df)),
        "labels": labels,
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "balanced_accuracy_adjusted": float(balanced_accuracy_score(y_true, y_pred, adjusted=True)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "per_condition": per_condition,
        "ba_conditions_by_column": by_column,
        "ba_conditions_macro": float(np.mean(list(by_column.values()))),
    }


def main():
    rng = np.random.default_rng(20260523)
    datasets = {
        "random_multiclass": (multiclass(rng), ["snr", "dur", "shard"]),
        "random_binary": (binary(rng), ["condition"]),
    }
    expected = {
        "reference": f"scikit-learn {sklearn.__version__}, pandas {pd.__version__}, numpy {np.__version__}",
        "script": "scripts/make_metrics_fixture.py",
    }
    for name, (df, condition_cols) in datasets.items():
        df.to_csv(OUT / f"{name}.csv", index=False)
        df.to_parquet(OUT / f"{name}.parquet", index=False)
        expected[name] = {"condition_cols": condition_cols, **score(df, condition_cols)}
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
