# The exact optimum of the 10-city tour in evaluate.py, by Held-Karp dynamic programming (O(2^n n^2)).
import math
from itertools import combinations

CITIES = [(54, 8), (85, 60), (12, 44), (70, 93), (33, 71), (96, 19), (5, 90), (47, 38), (24, 12), (78, 36)]
n = len(CITIES)
d = [[math.dist(a, b) for b in CITIES] for a in CITIES]
best = {(1 << k, k): (d[0][k], 0) for k in range(1, n)}
for size in range(2, n):
    for subset in combinations(range(1, n), size):
        bits = sum(1 << k for k in subset)
        for k in subset:
            prev = bits & ~(1 << k)
            best[(bits, k)] = min((best[(prev, m)][0] + d[m][k], m) for m in subset if m != k)
full = (1 << n) - 2
length, last = min((best[(full, k)][0] + d[k][0], k) for k in range(1, n))
tour, bits = [0], full
while last:
    tour.append(last)
    bits, last = bits & ~(1 << last), best[(bits, last)][1]
print(f"optimal tour {','.join(map(str, tour))} length {length:.3f}")
