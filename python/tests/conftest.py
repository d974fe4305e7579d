"""Shared fixtures: the repository's shipped models, found through KILN_SOURCE_DIR (set by CTest)
or this file's place in the repository."""

import os
import pathlib

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("KILN_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
DIGITS = SOURCE_DIR / "models" / "digits"
KJV = SOURCE_DIR / "models" / "kjv"
KJV_CHAT_CONFIG = SOURCE_DIR / "tests" / "llm_fixtures" / "kjv_chat" / "tokenizer_config.json"


@pytest.fixture(scope="session")
def digits_model():
    return str(DIGITS / "digits_cnn.onnx")


@pytest.fixture(scope="session")
def kjv_dir():
    return str(KJV)


@pytest.fixture(scope="session")
def kjv_chat_dir(tmp_path_factory):
    """models/kjv's files beside the chat-template fixture's tokenizer_config.json, as
    tests/CMakeLists.txt makes it for `kiln chat`."""
    directory = tmp_path_factory.mktemp("kjv_chat")
    for name in ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json"):
        (directory / name).symlink_to(KJV / name)
    (directory / "tokenizer_config.json").write_bytes(KJV_CHAT_CONFIG.read_bytes())
    return str(directory)
