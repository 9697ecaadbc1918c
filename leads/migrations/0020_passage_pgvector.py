"""Passages' vectors in pgvector's type, where the PostgreSQL server offers the extension
(leads/services/vectors.py): the extension is created, the column added and filled from the
vectors already made. Nothing on SQLite, nor on a server without pgvector (or where this role
may not create it): retrieval then compares vectors in the process. After installing pgvector
on a database migrated before, `manage.py migrate leads 0019 && manage.py migrate` adds it.
"""

from typing import Any

import numpy as np
from django.db import DatabaseError, migrations, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def _pgvector(connection: BaseDatabaseWrapper) -> bool:
    """Whether pgvector is (now) in this database: created here if the server offers it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        if cursor.fetchone() is None:
            return False
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except DatabaseError as exc:
            print(f"\n  pgvector not enabled ({exc}): vectors are compared in the process")
            return False
    return True


def forwards(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or not _pgvector(connection):
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE leads_passage ADD COLUMN IF NOT EXISTS vector vector")
        cursor.execute("SELECT id, embedding FROM leads_passage WHERE embedding IS NOT NULL")
        for passage_id, blob in cursor.fetchall():
            vector = np.frombuffer(bytes(blob), dtype=np.float32)
            text = "[" + ",".join(f"{x:.8g}" for x in vector) + "]"
            cursor.execute(
                "UPDATE leads_passage SET vector = %s::vector WHERE id = %s", [text, passage_id]
            )


def backwards(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("ALTER TABLE leads_passage DROP COLUMN IF EXISTS vector")


class Migration(migrations.Migration):
    dependencies = [("leads", "0019_reply_composition")]

    operations = [migrations.RunPython(forwards, backwards)]
