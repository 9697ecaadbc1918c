"""Visitor tokens are kept as their SHA-256 only: the tokens stored so far are replaced by their
digests, so the browsers that hold them resume their conversations as before."""

import hashlib
from typing import Any

from django.db import migrations, models


def tokens_to_digests(apps: Any, schema_editor: Any) -> None:
    Visitor = apps.get_model("leads", "Visitor")
    for visitor in Visitor.objects.only("id", "token").iterator():
        digest = hashlib.sha256(visitor.token.encode("utf-8", "replace")).hexdigest()
        Visitor.objects.filter(id=visitor.id).update(token=digest)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0014_delivery_bookkeeping"),
    ]

    operations = [
        migrations.AlterField(
            model_name="visitor",
            name="token",
            field=models.CharField(max_length=64, unique=True, verbose_name="token digest"),
        ),
        # One way: a digest cannot be turned back into the token.
        migrations.RunPython(tokens_to_digests, migrations.RunPython.noop),
    ]
