"""The `anpr:` schema: defaults, references between sections, clear errors; the dropping frame queue."""

from __future__ import annotations

import numpy as np
import pytest
import voluptuous as vol

from integrations.anpr import CONFIG_SCHEMA
from integrations.anpr.config import DEFAULT_DETECTORS, CameraConfig
from integrations.anpr.worker import FrameQueue


def test_defaults_and_source_types() -> None:
    conf = CONFIG_SCHEMA(
        {
            "cameras": [
                {"id": "a", "source": "rtsp://user:pw@10.0.0.7/stream1"},
                {"id": "b", "source": "/srv/footage/tarajal.mp4"},
                {"id": "c", "source": "sim://c?seed=2"},
                {"id": "d", "source": "http://10.0.0.8/snap.jpg", "type": "snapshot"},
            ]
        }
    )
    types = [CameraConfig.from_config(c).type for c in conf["cameras"]]
    assert types == ["stream", "file", "sim", "snapshot"]
    assert conf["cameras"][0]["fps"] == 5.0 and conf["cameras"][0]["queue_size"] == 2
    assert conf["retention"] == {
        "reads_hours": 72.0,
        "non_hit_images_hours": 0.0,
        "hits_days": 90.0,
        "purge_interval": 600.0,
    }
    assert conf["matching"] == {"max_distance": 1.0, "confusion_cost": 0.25}
    assert conf["privacy"] == {"plate_in_events": False}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"hash_key": "short"}, "at least 16"),
        ({"cameras": [{"id": "A b", "source": "sim://x"}]}, "lower-case"),
        ({"cameras": [{"id": "a", "source": "sim://x", "roi": [0, 0, 5]}]}, "roi"),
        ({"cameras": [{"id": "a", "source": "sim://x"}, {"id": "a", "source": "sim://y"}]}, "duplicate id 'a'"),
        (
            {
                "cameras": [{"id": "a", "source": "sim://x"}],
                "journeys": [{"id": "j", "from": "a", "to": "b", "distance_m": 100}],
            },
            "no camera with id 'b'",
        ),
        ({"lists": [{"id": "x", "kind": "maybe"}]}, "kind"),
        ({"cameras": [{"id": "a", "source": "sim://x", "detectors": ["ssd"]}]}, "detectors"),
    ],
)
def test_errors(raw: dict[str, object], message: str) -> None:
    with pytest.raises(vol.Invalid) as err:
        CONFIG_SCHEMA(raw)
    assert message in str(err.value) or message in repr(err.value)


def test_frame_queue_drops_the_oldest_and_counts() -> None:
    frames = FrameQueue(2)
    images = [np.full((2, 2), i, np.uint8) for i in range(5)]
    results = [frames.put((img, float(i))) for i, img in enumerate(images)]
    assert results == [True, True, False, False, False]
    assert frames.dropped == 3 and frames.qsize() == 2
    first = frames.get(0.1)
    assert first is not None and first[1] == 3.0  # the newest frames were kept
    assert frames.get(0.1) is not None and frames.get(0.01) is None


def test_the_yolo_detector_and_its_model_are_configurable() -> None:
    conf = CONFIG_SCHEMA({"cameras": [{"id": "a", "source": "sim://x", "detectors": ["yolo", "morph"]}],
                          "reader": {"yolo_model": "/models/plates.pt"}})
    assert conf["cameras"][0]["detectors"] == ["yolo", "morph"]
    assert conf["reader"]["yolo_model"] == "/models/plates.pt"


def test_a_camera_that_names_no_detectors_gets_the_yolo_model() -> None:
    conf = CONFIG_SCHEMA({"cameras": [{"id": "a", "source": "sim://x"}]})
    assert conf["cameras"][0]["detectors"] == ["yolo"] == list(DEFAULT_DETECTORS)
