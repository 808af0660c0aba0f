from sklearn.linear_model import LogisticRegression


def make_model():
    return LogisticRegression(max_iter=1000)
