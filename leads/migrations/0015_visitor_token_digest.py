"""Visitor tokens are kept as their SHA-256 only: the tokens stored so far are replaced by their
digests, so the browsers that hold them resume their conversations as before. And the identity
secret now signs the email, the host's user id and an expiry."""

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
        migrations.AlterField(
            model_name="site",
            name="identity_secret",
            field=models.CharField(
                blank=True,
                help_text="Key with which your server signs the email, user id and expiry it "
                "passes to salesbot.identify() (HMAC-SHA256, hex; docs/protocol.md). Set, "
                "unsigned, wrongly signed or expired identities are refused; unset, identify() "
                "is taken as a hint that loses to what the visitor says.",
                max_length=128,
            ),
        ),
    ]
