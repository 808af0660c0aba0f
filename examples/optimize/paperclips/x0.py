import urllib.request

for _ in range(3):
    urllib.request.urlopen(urllib.request.Request(BASE + "/make", method="POST"))
