import hashlib
import os
import threading
from pathlib import Path

import pytest

from processing.lib.errors import InvalidOptions, ModelMissing, ProviderUnavailable
from processing.lib.rembg import sessions as rembg_sessions
from processing.lib.rembg.runtime import OnnxSettings
from processing.lib.rembg.sessions import (
    available_models,
    clear_sessions,
    expected_md5,
    get_session,
    model_file_path,
    model_files,
    providers_in_use,
)

U2NETP_MD5 = "8e83ca70e441ab06c318d82300c84806"


@pytest.fixture(autouse=True)
def _fresh_cache_and_environment(monkeypatch):
    # get_session sets REMBG_HOME; monkeypatch puts the old value back afterwards.
    monkeypatch.setenv("REMBG_HOME", os.environ.get("REMBG_HOME", "/nonexistent"))
    monkeypatch.delenv("U2NET_HOME", raising=False)
    clear_sessions()
    yield
    clear_sessions()


def home_with_u2netp(rembg_home: str, where: Path) -> str:
    """Another model directory holding the same u2netp file (linked, not copied)."""
    target = where / "models" / "u2netp"
    target.mkdir(parents=True)
    (target / "u2netp.onnx").symlink_to(Path(rembg_home) / "models" / "u2netp" / "u2netp.onnx")
    return str(where)


def test_same_session_for_two_threads_asking_at_once(rembg_home, monkeypatch):
    builds = []
    real_new_session = rembg_sessions.rembg.new_session

    def counting_new_session(*args, **kwargs):
        builds.append(args)
        return real_new_session(*args, **kwargs)

    monkeypatch.setattr(rembg_sessions.rembg, "new_session", counting_new_session)
    barrier, sessions = threading.Barrier(2), []

    def ask():
        barrier.wait()
        sessions.append(get_session("u2netp", home=rembg_home))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(builds) == 1
    assert sessions[0] is sessions[1]
    assert get_session("u2netp", home=rembg_home) is sessions[0]


def test_least_recently_used_is_evicted(rembg_home, tmp_path):
    home_a = rembg_home
    home_b = home_with_u2netp(rembg_home, tmp_path / "b")
    home_c = home_with_u2netp(rembg_home, tmp_path / "c")

    a = get_session("u2netp", home=home_a, max_sessions=2)
    b = get_session("u2netp", home=home_b, max_sessions=2)
    assert get_session("u2netp", home=home_a, max_sessions=2) is a  # a is now the most recent
    get_session("u2netp", home=home_c, max_sessions=2)  # evicts b

    assert get_session("u2netp", home=home_a, max_sessions=2) is a
    assert get_session("u2netp", home=home_b, max_sessions=2) is not b
    assert len(rembg_sessions._sessions) == 2


def test_thread_options_reach_onnxruntime(rembg_home):
    session = get_session("u2netp", home=rembg_home, onnx=OnnxSettings(intra_op_threads=1))

    options = session.inner_session.get_session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)
    # The defaults (docs/benchmarks.md, "Worker memory"): the arena on, the memory pattern off.
    assert options.enable_mem_pattern is False and options.enable_cpu_mem_arena is True


def test_a_serial_session_runs_one_inference_at_a_time(rembg_home):
    """Two threads asking a serial session for masks take turns in onnxruntime (so one run's
    buffers are alive at once), and each turn gets the pixels it asked for."""
    from PIL import Image

    from processing.lib.imaging.masks import predict_mask

    session = get_session("u2netp", home=rembg_home, onnx=OnnxSettings(serial=True))
    real = session.inner_session
    inside, most, guard = 0, 0, threading.Lock()

    class Watched:  # the real session, its runs counted as they overlap
        def __getattr__(self, name):
            return getattr(real, name)

        def run(self, *args):
            nonlocal inside, most
            with guard:
                inside += 1
                most = max(most, inside)
            try:
                return real.run(*args)
            finally:
                with guard:
                    inside -= 1

    session.inner_session = Watched()
    images = [Image.new("RGB", (64, 48), colour) for colour in ("white", "black", "red", "blue")]
    masks: dict[int, object] = {}
    threads = [
        threading.Thread(target=lambda i=i: masks.__setitem__(i, predict_mask(session, images[i]))) for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session.inner_session = real
    assert most == 1
    assert [masks[i].size for i in range(4)] == [(64, 48)] * 4


def test_session_runs_on_the_cpu_provider_and_says_so(rembg_home):
    get_session("u2netp", home=rembg_home, onnx=OnnxSettings(providers=("CPUExecutionProvider",)))

    assert providers_in_use() == ["CPUExecutionProvider"]


def test_a_provider_onnxruntime_lacks_is_refused_not_run_on_the_cpu(rembg_home):
    with pytest.raises(ProviderUnavailable, match="no CUDAExecutionProvider .*REMBG_PROVIDER_FALLBACK=cpu"):
        get_session("u2netp", home=rembg_home, onnx=OnnxSettings(providers=("CUDAExecutionProvider",)))

    assert providers_in_use() == []


def test_cpu_fallback_runs_on_the_cpu_when_allowed(rembg_home):
    onnx = OnnxSettings(providers=("CUDAExecutionProvider", "TensorrtExecutionProvider"), cpu_fallback=True)

    session = get_session("u2netp", home=rembg_home, onnx=onnx)

    assert session.inner_session.get_providers()[0] == "CPUExecutionProvider"


def test_missing_model_is_reported_not_downloaded(tmp_path):
    with pytest.raises(ModelMissing) as caught:
        get_session("u2netp", home=str(tmp_path))

    assert caught.value.message == (
        f"rembg model 'u2netp' is not installed in {tmp_path}; run `python manage.py fetch_models`"
    )
    assert not (tmp_path / "models").exists()


def test_a_model_needing_two_files_is_missing_with_one(tmp_path):
    encoder, decoder = model_files("sam")
    (tmp_path / "models" / "sam").mkdir(parents=True)
    (tmp_path / "models" / "sam" / encoder).write_bytes(b"placeholder")

    with pytest.raises(ModelMissing, match="'sam' is not installed"):
        get_session("sam", home=str(tmp_path))


def test_corrupt_model_file_is_reported(tmp_path):
    path = model_file_path("u2netp", str(tmp_path))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not an onnx model")

    with pytest.raises(ModelMissing, match="could not be loaded"):
        get_session("u2netp", home=str(tmp_path))


def test_legacy_flat_u2net_home_is_still_found(rembg_home, tmp_path, monkeypatch):
    flat = tmp_path / "legacy"
    flat.mkdir()
    (flat / "u2netp.onnx").symlink_to(Path(rembg_home) / "models" / "u2netp" / "u2netp.onnx")
    monkeypatch.setenv("U2NET_HOME", str(flat))

    assert get_session("u2netp", home=str(tmp_path / "empty")) is not None


@pytest.mark.parametrize("name", ["u3net", "u2net_custom", "dis_custom", "ben_custom", "withoutbg", "atlascloud"])
def test_unavailable_models_are_invalid_params(name, tmp_path):
    with pytest.raises(InvalidOptions, match=r"unknown background model .*available: .*u2netp"):
        get_session(name, home=str(tmp_path))


def test_available_models_are_the_local_downloadable_ones():
    models = available_models()

    assert {"u2netp", "u2net", "isnet-general-use", "birefnet-general", "sam"} <= set(models)
    assert not {"u2net_custom", "dis_custom", "ben_custom", "withoutbg", "atlascloud"} & set(models)


def test_model_files_and_checksums_come_from_rembg():
    assert model_files("u2netp") == ["u2netp.onnx"]
    assert model_files("birefnet-general") == ["birefnet-general.onnx"]
    assert model_files("sam") == ["sam_vit_b_01ec64.encoder.onnx", "sam_vit_b_01ec64.decoder.onnx"]
    assert model_file_path("u2netp", "/srv/rembg") == Path("/srv/rembg/models/u2netp/u2netp.onnx")
    assert expected_md5("u2netp") == U2NETP_MD5
    assert expected_md5("u2net") == "60024c5c889badc19c04ad937298a77b"
    assert expected_md5("sam") == "a780f8ba09bceceaa1435724ed354848"
    assert expected_md5("sam", file_name="sam_vit_b_01ec64.decoder.onnx") == "c4218b16ec1cb09889fcd6eb7a42a7c9"
    assert expected_md5("bria-rmbg") is None  # rembg pins it with sha256


def test_the_installed_test_model_is_rembgs_own(rembg_home):
    digest = hashlib.md5(model_file_path("u2netp", rembg_home).read_bytes()).hexdigest()

    assert digest == expected_md5("u2netp")
