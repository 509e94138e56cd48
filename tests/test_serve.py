import os
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
