from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from fedicoop.models.states import CatalogueKind, DeliveryState, InboxState, Purpose
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fedicoop', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CatalogueItem',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('iri', fields.CharField(unique=True, max_length=2048)),
                ('actor_iri', fields.CharField(db_index=True, max_length=2048)),
                ('host', fields.CharField(db_index=True, max_length=255)),
                ('kind', fields.CharEnumField(db_index=True, description='OFFER: offer\nREQUEST: request\nREPAIR: repair\nEVENT: event', enum_type=CatalogueKind, max_length=16)),
                ('purpose', fields.CharEnumField(null=True, description='OFFER: offer\nREQUEST: request', enum_type=Purpose, max_length=16)),
                ('category', fields.CharField(null=True, max_length=100)),
                ('name', fields.CharField(default='', max_length=500)),
                ('content', fields.TextField(default='', unique=False)),
                ('summary', fields.TextField(default='', unique=False)),
                ('text', fields.TextField(default='', unique=False)),
                ('url', fields.CharField(null=True, max_length=2048)),
                ('document', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('slots', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('slots_fetched_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('available', fields.BooleanField(default=True)),
                ('published', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('starts_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('location_name', fields.CharField(null=True, max_length=500)),
                ('latitude', fields.FloatField(null=True)),
                ('longitude', fields.FloatField(null=True)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'catalogue_item', 'app': 'fedicoop', 'pk_attr': 'id', 'table_description': 'A remote object as last received from its origin, its HTML sanitised, searchable by kind and text.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CatalogueTombstone',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('iri', fields.CharField(unique=True, max_length=2048)),
                ('actor_iri', fields.CharField(max_length=2048)),
                ('deleted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'catalogue_tombstone', 'app': 'fedicoop', 'pk_attr': 'id', 'table_description': 'An object its author deleted: a late or replayed Create of it must not bring it back.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('activity', fields.ForeignKeyField('fedicoop.Activity', source_field='activity_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('inbox', fields.CharField(max_length=2048)),
                ('host', fields.CharField(db_index=True, max_length=255)),
                ('recipient_iri', fields.CharField(null=True, max_length=2048)),
                ('state', fields.CharEnumField(default=DeliveryState.PENDING, db_index=True, description='PENDING: pending\nDELIVERED: delivered\nFAILED: failed\nDEAD: dead\nSKIPPED: skipped', enum_type=DeliveryState, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('first_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('locked_by', fields.CharField(null=True, max_length=64)),
                ('last_status', fields.IntField(null=True)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'delivery', 'app': 'fedicoop', 'unique_together': (('activity', 'inbox'),), 'pk_attr': 'id', 'table_description': 'The delivery of one activity to one inbox, retried with backoff until delivered, final or dead.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DomainHealth',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('host', fields.CharField(unique=True, max_length=255)),
                ('failure_days', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('last_success_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('unavailable', fields.BooleanField(default=False)),
                ('last_probe_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'domain_health', 'app': 'fedicoop', 'pk_attr': 'id', 'table_description': 'How a peer host has answered our deliveries: failing days, last success, unavailability.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InboxItem',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('activity_iri', fields.CharField(unique=True, max_length=2048)),
                ('type', fields.CharField(max_length=64)),
                ('actor_iri', fields.CharField(max_length=2048)),
                ('signer_iri', fields.CharField(max_length=2048)),
                ('authentic', fields.BooleanField()),
                ('recipient', fields.CharField(null=True, max_length=64)),
                ('document', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('state', fields.CharEnumField(default=InboxState.RECEIVED, db_index=True, description='RECEIVED: received\nPROCESSED: processed\nIGNORED: ignored\nFAILED: failed', enum_type=InboxState, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('locked_by', fields.CharField(null=True, max_length=64)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'inbox_item', 'app': 'fedicoop', 'pk_attr': 'id', 'table_description': 'One verified incoming activity, unique by its id, with the outcome of its processing.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RemoteActor',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('iri', fields.CharField(unique=True, max_length=2048)),
                ('host', fields.CharField(db_index=True, max_length=255)),
                ('type', fields.CharField(max_length=64)),
                ('username', fields.CharField(null=True, max_length=255)),
                ('name', fields.CharField(default='', max_length=500)),
                ('inbox', fields.CharField(max_length=2048)),
                ('shared_inbox', fields.CharField(null=True, max_length=2048)),
                ('manually_approves_followers', fields.BooleanField(default=False)),
                ('discoverable', fields.BooleanField(default=False)),
                ('software', fields.CharField(null=True, max_length=64)),
                ('document', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('gone', fields.BooleanField(default=False)),
                ('fetched_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'remote_actor', 'app': 'fedicoop', 'pk_attr': 'id', 'table_description': 'A remote actor as last fetched: where to deliver to it, and whether it is gone.'},
            bases=['Model'],
        ),
    ]
