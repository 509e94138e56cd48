import os
import threading
import urllib.error
import urllib.request

import pytest

from sitegen.cli.serve import safe_path, serve_in_thread


@pytest.fixture()
def site(tmp_path):
    root = tmp_path / "build"
    (root / "item" / "a").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>home</title>")
    (root / "item" / "a" / "index.html").write_text("<!doctype html><title>a</title>")
    (root / "sitemap.xml").write_text("<?xml version='1.0'?><urlset/>")
    (root / "sitemap.xsl").write_text("<xsl/>")
    (root / "m.webp").write_bytes(b"RIFF")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    server, base = serve_in_thread(root)
    yield root, base
    server.shutdown()
    server.server_close()


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read()


def test_serves_pages_with_content_types(site):
    _, base = site
    assert get(base + "/")[:2] == (200, "text/html; charset=utf-8")
    assert get(base + "/item/a/")[0] == 200
    assert get(base + "/sitemap.xml")[1] == "application/xml; charset=utf-8"
    assert get(base + "/sitemap.xsl")[1] == "text/xsl; charset=utf-8"
    assert get(base + "/m.webp")[1] == "image/webp"


def test_directory_without_slash_redirects(site):
    _, base = site
    assert get(base + "/item/a")[0] == 200  # urllib follows the 301
    assert get(base + "/missing/")[0] == 404


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/item/%2e%2e/%2e%2e/secret.txt",
                                  "/%2e%2e%2fsecret.txt", "/link.txt", "/..%5csecret.txt", "/%00"])
def test_never_serves_outside_the_output_folder(site, path):
    root, base = site
    assert safe_path(root, path) is None
    # raw request, so the client does not normalise the path first
    import http.client
    from urllib.parse import urlsplit

    host = urlsplit(base)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=5)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 404 and b"secret" not in body
    conn.close()


# -- under load and against odd clients -----------------------------------------------------------------------

def _raw(base: str, data: bytes, timeout: float = 5) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    import socket
    from urllib.parse import urlsplit

    u = urlsplit(base)
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_200_concurrent_requests_are_all_answered_quickly(site):
    import time
    from concurrent.futures import ThreadPoolExecutor

    _, base = site
    paths = ["/", "/item/a/", "/sitemap.xml", "/m.webp", "/missing/"] * 40
    barrier = threading.Barrier(len(paths), timeout=10)

    def one(path):
        barrier.wait()  # every client connects at the same moment
        t0 = time.perf_counter()
        status = get(base + path)[0]
        return status, time.perf_counter() - t0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        results = list(pool.map(one, paths))
    total = time.perf_counter() - t0
    assert [s for s, _ in results] == [200, 200, 200, 200, 404] * 40
    assert total < 5, f"200 concurrent requests took {total:.1f} s (slowest {max(d for _, d in results):.1f} s)"


def test_keep_alive_then_an_idle_connection_is_closed(tmp_path):
    import http.client
    import socket
    import time
    from urllib.parse import urlsplit

    root = tmp_path / "build"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>home</title>")
    server, base = serve_in_thread(root, timeout=1.0)
    try:
        u = urlsplit(base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
        for _ in range(3):  # one connection, several requests
            conn.request("GET", "/")
            resp = conn.getresponse()
            assert resp.status == 200 and resp.read().startswith(b"<!doctype")
        sock = conn.sock
        t0 = time.perf_counter()
        sock.settimeout(5)
        assert sock.recv(1) == b""  # the server closed the idle connection
        assert 0.5 < time.perf_counter() - t0 < 3
        conn.close()
        # a client that connects and never sends a byte is dropped the same way
        with socket.create_connection((u.hostname, u.port), timeout=5) as s:
            t0 = time.perf_counter()
            assert s.recv(1) == b""
            assert time.perf_counter() - t0 < 3
    finally:
        server.shutdown()
        server.server_close()


def test_overlong_paths_get_an_answer_not_a_dropped_connection(site):
    root, base = site
    segment = "a" * 300
    assert safe_path(root, "/" + segment + "/") is None
    for path in ["/" + segment, "/item/" + segment + "/", "/" + "%C3%A9" * 200, "/x/" * 1500]:
        reply = _raw(base, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert reply.startswith(b"HTTP/1.1 404 "), (path[:40], reply[:80])
    reply = _raw(base, b"GET /" + b"a/" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 414 ")
    assert get(base + "/")[0] == 200  # the server is still fine


def test_report_is_served_at_report_from_its_own_folder(tmp_path):
    root = tmp_path / "build"
    report = tmp_path / ".sitegen" / "report"
    root.mkdir()
    report.mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>home</title>")
    (report / "index.html").write_text("<!doctype html><title>report</title>")
    (report / "report.json").write_text("{}")
    (tmp_path / ".sitegen" / "site.duckdb").write_text("secret store")
    server, base = serve_in_thread(root, report_dir=report)
    try:
        assert get(base + "/_report/")[2].endswith(b"<title>report</title>")
        assert get(base + "/_report")[0] == 200  # redirected to the slash form
        assert get(base + "/_report/report.json")[1] == "application/json; charset=utf-8"
        for path in ["/_report/../site.duckdb", "/_report/%2e%2e/site.duckdb", "/_report/..%2fsite.duckdb",
                     "/_reportx/", "/_report/" + "b" * 300]:
            status, _, body = get(base + path)
            assert status == 404 and b"secret" not in body, path
    finally:
        server.shutdown()
        server.server_close()
    server, base = serve_in_thread(root)  # no report folder: /_report/ is simply not there
    try:
        assert get(base + "/_report/")[0] == 404
    finally:
        server.shutdown()
        server.server_close()
