"""The dashboard from Python: fcnlab.serve(block=False) and draw_network."""
import json
import urllib.error
import urllib.request

import pytest

import fcnlab

pytestmark = pytest.mark.skipif(
    not hasattr(fcnlab, "serve"), reason="this build has no dashboard")


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_serve_lists_a_run_and_stops(tmp_path):
    run = tmp_path / "runs" / "first"
    run.mkdir(parents=True)
    lines = [{"type": "iteration", "iteration": i, "epoch": 1, "loss": 1.0 / i}
             for i in (1, 2, 3)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    server = fcnlab.serve([str(tmp_path / "runs")], port=0, block=False)
    try:
        assert server.running
        assert server.url == f"http://127.0.0.1:{server.port}/"
        status, body = get(server.url + "api/runs")
        assert status == 200
        runs = json.loads(body)["runs"]
        assert [r["id"] for r in runs] == ["runs~first"]
        assert runs[0]["iteration"] == 3
        assert runs[0]["loss"] == pytest.approx(1.0 / 3)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(
                server.url + "api/runs", headers={"Host": "evil.example"}), timeout=10)
        assert refused.value.code == 403
    finally:
        server.stop()
    assert not server.running


def test_draw_network_writes_every_layer(tmp_path):
    path = tmp_path / "net.svg"
    fcnlab.draw_network("fcn_alexnet", str(path))
    svg = path.read_text()
    for layer in ("conv1", "pool5", "fc7", "score_fr", "upscore", "score"):
        assert f">{layer}<" in svg, layer
    model = fcnlab.FcnAlexNet(num_classes=5)
    fcnlab.draw_network(model, str(tmp_path / "net.png"), 227, 227)
    assert (tmp_path / "net.png").read_bytes()[1:4] == b"PNG"
    with pytest.raises(Exception, match="gif"):
        fcnlab.draw_network("fcn_alexnet", str(tmp_path / "net.gif"))
