"""Fixtures that sqlite-vec-client's own tests expect (its conftest.py is not in the sdist).

Loaded with `-p _svc_fixtures` when tests/clients/test_upstream_suites.py runs the sdist's
tests/ directory. Same names and sample data as the upstream fixtures, written here.
"""
import pathlib
import tempfile

import pytest
from sqlite_vec_client import SQLiteVecClient


@pytest.fixture
def temp_db():
    with tempfile.TemporaryDirectory() as d:
        yield str(pathlib.Path(d) / "test.db")


@pytest.fixture
def client(temp_db):
    c = SQLiteVecClient(table="test_table", db_path=temp_db)
    yield c
    c.close()


@pytest.fixture
def client_with_table(client):
    client.create_table(dim=3, distance="cosine")
    return client


@pytest.fixture
def client_with_unique_table(client):
    client.create_table(dim=3, distance="cosine", unique_text=True)
    return client


@pytest.fixture
def sample_embeddings():
    return [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]]


@pytest.fixture
def sample_texts():
    return ["hello world", "lorem ipsum", "vector database"]


@pytest.fixture
def sample_metadata():
    return [
        {"category": "greeting", "lang": "en"},
        {"category": "placeholder", "lang": "la"},
        {"category": "tech", "lang": "en"},
    ]
