# The held-out test score of the best x, measured once at the end: fit on train + validation, score on test.
import json
import warnings

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore")
X, y = load_digits(return_X_y=True)
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
namespace = {}
exec(open("/work/x.txt").read(), namespace)
model = namespace["make_model"]()
model.fit(X_rest, y_rest)
print(json.dumps({"test_accuracy": round(float(model.score(X_test, y_test)), 4)}))
