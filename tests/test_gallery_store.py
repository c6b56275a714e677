import numpy as np
import pytest

from faceprint.errors import BadInput, EncryptionKeyError, FacesetExist, InvalidFacesetToken, InvalidFaceToken, PackMismatch
from faceprint.gallery import FaceSetUpdate, NewFace, NewFaceSet
from faceprint.gallery.crypto import Cipher
from faceprint.gallery.store import SqliteStore
from gallery_support import unit

KEY = bytes(range(32))


def new(outer=None, tenant="default", dim=8):
    return NewFaceSet(pack="synthetic", dim=dim, outer_id=outer, tenant=tenant, tags=("a",))


def test_facesets_crud_paging_and_uniqueness(tmp_path):
    st = SqliteStore(tmp_path / "db")
    made = [st.create_faceset(new(f"g{i}")) for i in range(5)]
    assert len({fs.token for fs in made}) == 5 and all(len(fs.token) == 32 for fs in made)
    with pytest.raises(FacesetExist):
        st.create_faceset(new("g1"))
    page = st.list_facesets("default", start=0, limit=2)
    assert [fs.outer_id for fs in page.items] == ["g0", "g1"] and page.total == 5 and page.next_start == 2
    last = st.list_facesets("default", start=4, limit=2)
    assert [fs.outer_id for fs in last.items] == ["g4"] and last.next_start is None
    assert st.list_facesets("default", tag="a").total == 5 and st.list_facesets("default", tag="zz").total == 0
    fs = st.update_faceset("default", made[0].token, FaceSetUpdate(display_name="Zero", user_data="{}", tags=("b",)))
    assert (fs.display_name, fs.user_data, fs.tags, fs.outer_id) == ("Zero", "{}", ("b",), "g0")
    with pytest.raises(FacesetExist):
        st.update_faceset("default", made[0].token, FaceSetUpdate(outer_id="g1"))
    with pytest.raises(BadInput):
        st.update_faceset("default", made[0].token, FaceSetUpdate(user_data="x" * 16385))
    st.delete_faceset("default", made[0].token)
    with pytest.raises(InvalidFacesetToken):
        st.get_faceset("default", made[0].token)
    assert st.get_faceset("default", outer_id="g1").token == made[1].token


def test_tenants_never_see_each_other(tmp_path):
    st = SqliteStore(tmp_path / "db")
    a = st.create_faceset(new("same", tenant="a"))
    b = st.create_faceset(new("same", tenant="b"))  # outer_id is unique per tenant only
    (face,) = st.add_faces("a", a.token, [NewFace(unit(np.random.default_rng(0), 1, 8)[0], "x")])
    with pytest.raises(InvalidFacesetToken):
        st.get_faceset("b", a.token)
    with pytest.raises(InvalidFacesetToken):
        st.add_faces("b", a.token, [NewFace(np.ones(8, np.float32), "x")])
    with pytest.raises(InvalidFaceToken):
        st.get_face("b", face.token)
    with pytest.raises(InvalidFacesetToken):
        st.remove_faces("b", a.token, [face.token])
    assert st.remove_faces("b", b.token, [face.token]) == 0  # a token from another tenant removes nothing
    assert st.get_face("a", face.token).subject == "x"
    assert [fs.token for fs in st.list_facesets("b").items] == [b.token]


def test_generations_list_what_an_index_must_catch_up(tmp_path):
    st = SqliteStore(tmp_path / "db")
    fs = st.create_faceset(new())
    fid = st.faceset_id("default", fs.token)
    vecs = unit(np.random.default_rng(1), 6, 8)
    first = st.add_faces("default", fs.token, [NewFace(v, f"s{i}") for i, v in enumerate(vecs[:4])])
    g1 = st.index_state(fid)
    assert (g1.generation, g1.count) == (1, 4)
    st.add_faces("default", fs.token, [NewFace(v, "late") for v in vecs[4:]])
    assert st.remove_subject("default", fs.token, "s0") == 1
    st.remove_faces("default", fs.token, [first[1].token])
    state = st.index_state(fid)
    assert (state.generation, state.count) == (4, 4)
    added = np.concatenate([ids for ids, _ in st.added_since(fid, g1.generation)])
    assert len(added) == 2
    all_ids, all_vecs = zip(*st.added_since(fid, -1, chunk=2), strict=True)
    assert sum(map(len, all_ids)) == 4 and np.concatenate(all_vecs).dtype == np.float32
    removed = st.removed_since(fid, g1.generation)
    assert len(removed) == 2 and set(removed) & set(np.concatenate(all_ids).tolist()) == set()
    assert len(st.removed_since(fid, 3)) == 1 and len(st.removed_since(fid, 0, upto=3)) == 1
    _, got = st.fetch_vectors(np.concatenate(all_ids))
    np.testing.assert_array_equal(got, np.concatenate(all_vecs))
    with pytest.raises(PackMismatch):
        st.add_faces("default", fs.token, [NewFace(np.ones(16, np.float32))])


def test_encrypted_store_keeps_no_plaintext_and_needs_its_key(tmp_path):
    path = tmp_path / "db"
    st = SqliteStore(path, Cipher(KEY))
    fs = st.create_faceset(new(dim=64))
    vecs = unit(np.random.default_rng(2), 50, 64)
    recs = st.add_faces("default", fs.token, [NewFace(v, "s", thumbnail=b"JPEGDATA" * 4) for v in vecs])
    st.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert not any(v.tobytes()[:16] in raw for v in vecs)
    assert b"JPEGDATA" not in raw
    with pytest.raises(EncryptionKeyError):
        SqliteStore(path)
    with pytest.raises(EncryptionKeyError):
        SqliteStore(path, Cipher(bytes(32)))
    st = SqliteStore(path, Cipher(KEY))
    np.testing.assert_array_equal(st.get_embedding("default", recs[3].token), vecs[3])
    assert st.get_thumbnail("default", recs[0].token) == b"JPEGDATA" * 4
    with pytest.raises(EncryptionKeyError):
        SqliteStore(tmp_path / "plain").close() or SqliteStore(tmp_path / "plain", Cipher(KEY))
