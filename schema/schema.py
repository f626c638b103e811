"""The schema, composed from one module per domain."""

from __future__ import annotations

from graphql.error import GraphQLError
from strawberry import Schema
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.settings import Limits
from schema.access import guard_root_fields
from schema.alerts import AlertMutations, AlertQueries, AlertSubscriptions
from schema.audit import AuditFullRecordReads, AuditQueries
from schema.bundles import BundleMutations, BundleQueries
from schema.care import CareMutations
from schema.cases import CaseMutations, CaseQueries
from schema.cost import Documents, OperationLimits
from schema.discovery import DiscoveryQueries
from schema.errors import ErrorCodes
from schema.execution import Executor
from schema.guardianship import GuardianshipQueries
from schema.households import HouseholdQueries
from schema.institutions import InstitutionQueries
from schema.me import MeQueries
from schema.persons import PersonQueries
from schema.placements import PlacementMutations, PlacementQueries
from schema.referrals import ReferralMutations, ReferralQueries
from schema.regions import RegionQueries
from schema.reports import ReportMutations, ReportQueries
from schema.scalars import SCALAR_OVERRIDES
from schema.statistics import StatisticsQueries
from schema.timeline import TimelineQueries
from schema.village_file import VillageFileMutations
from schema.visits import VisitMutations
from schema.worklist import WorklistQueries

QUERIES: tuple[type, ...] = (
    MeQueries,
    BundleQueries,
    RegionQueries,
    PersonQueries,
    HouseholdQueries,
    InstitutionQueries,
    GuardianshipQueries,
    AuditQueries,
    CaseQueries,
    ReferralQueries,
    TimelineQueries,
    DiscoveryQueries,
    AlertQueries,
    WorklistQueries,
    StatisticsQueries,
    ReportQueries,
    PlacementQueries,
)
MUTATIONS: tuple[type, ...] = (
    BundleMutations,
    ReportMutations,
    CaseMutations,
    ReferralMutations,
    VisitMutations,
    VillageFileMutations,
    CareMutations,
    AlertMutations,
    PlacementMutations,
)
SUBSCRIPTIONS: tuple[type, ...] = (AlertSubscriptions,)


class ShouhuSchema(Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Strawberry would log each error with its message and stack: messages can quote names
        # and ID numbers. The request's log line has the codes (api/transport.py), and an
        # internal error is logged by type where it is masked (schema/errors.py).
        return


def build_schema(limits: Limits | None = None, *, production: bool = False) -> Schema:
    limits = limits or Limits()
    # One per schema, shared by its requests: its entries are checked against this schema's limits.
    documents = Documents(limits)
    query = merge_types("Query", QUERIES)
    mutation = merge_types("Mutation", MUTATIONS) if MUTATIONS else None
    subscription = merge_types("Subscription", SUBSCRIPTIONS) if SUBSCRIPTIONS else None
    schema = ShouhuSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        config=StrawberryConfig(disable_field_suggestions=production),
        scalar_overrides=SCALAR_OVERRIDES,
        execution_context_class=Executor,
        extensions=[
            ErrorCodes,
            AuditFullRecordReads,
            lambda: OperationLimits(limits, documents),
        ],
    )
    guard_root_fields(schema._schema)
    return schema
