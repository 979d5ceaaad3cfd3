"""The portal's tables (SkyPortal's model), on PostgreSQL.

Portal I uses identity, groups, streams, filters, objects, candidates, annotations, comments,
photometry, thumbnails and sources. The tables of what Portal II adds (classifications and
taxonomies, spectra, listings, follow-up) are here too, so that its routes need no
migration of the core.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONB, datetime: DateTime(timezone=True)}


def _link(name: str, left: str, right: str) -> Table:
    """An association of two tables' rows (``"<column>:<table>"`` each), gone with either."""
    (left_column, left_table), (right_column, right_table) = (
        side.split(":") for side in (left, right)
    )
    return Table(
        name,
        Base.metadata,
        Column(left_column, ForeignKey(f"{left_table}.id", ondelete="CASCADE"), primary_key=True),
        Column(
            right_column,
            ForeignKey(f"{right_table}.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )


# ---- identity ---------------------------------------------------------------------------


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String, unique=True)
    password_hash: Mapped[str] = mapped_column(String, default="")
    email: Mapped[str] = mapped_column(String, default="")
    first_name: Mapped[str | None] = mapped_column(String, nullable=True)
    last_name: Mapped[str | None] = mapped_column(String, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Posts by this user are a program's (the broker's): comments get bot=true.
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    preferences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ACL(Base):
    __tablename__ = "acls"
    id: Mapped[str] = mapped_column(String, primary_key=True)


class Role(Base):
    __tablename__ = "roles"
    id: Mapped[str] = mapped_column(String, primary_key=True)


role_acls = Table(
    "role_acls",
    Base.metadata,
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    Column("acl_id", ForeignKey("acls.id", ondelete="CASCADE"), primary_key=True),
)
user_roles = Table(
    "user_roles",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)
user_acls = Table(
    "user_acls",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("acl_id", ForeignKey("acls.id", ondelete="CASCADE"), primary_key=True),
)


class Token(Base):
    """A SkyPortal API token: its id is the secret, its ACLs its own."""

    __tablename__ = "tokens"
    __table_args__ = (UniqueConstraint("created_by_id", "name"),)
    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    name: Mapped[str] = mapped_column(String)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


token_acls = Table(
    "token_acls",
    Base.metadata,
    Column("token_id", ForeignKey("tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("acl_id", ForeignKey("acls.id", ondelete="CASCADE"), primary_key=True),
)


# ---- groups, streams, filters -----------------------------------------------------------


class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    nickname: Mapped[str | None] = mapped_column(String, unique=True, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    single_user_group: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupUser(Base):
    __tablename__ = "group_users"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    can_save: Mapped[bool] = mapped_column(Boolean, default=True)


class GroupAdmissionRequest(Base):
    __tablename__ = "group_admission_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    # pending, accepted or declined
    status: Mapped[str] = mapped_column(String, default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Stream(Base):
    __tablename__ = "streams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    # {"collection": "ZTF_alerts", "selector": [programids]}
    altdata: Mapped[dict[str, Any]] = mapped_column(default=dict)
    auto_join: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


stream_users = _link("stream_users", "stream_id:streams", "user_id:users")
group_streams = _link("group_streams", "group_id:groups", "stream_id:streams")


class Filter(Base):
    """SkyPortal's filter: its id is the filter id of the filters service's document."""

    __tablename__ = "filters"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    altdata: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Instrument(Base):
    __tablename__ = "instruments"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    filters: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    # SkyPortal's instrument type: an imager's photometry must be in one of its filters.
    type: Mapped[str] = mapped_column(String, default="imager", server_default="imager")
    band: Mapped[str | None] = mapped_column(String, nullable=True)


# ---- objects and candidates ---------------------------------------------------------------


class Obj(Base):
    __tablename__ = "objs"
    id: Mapped[str] = mapped_column(String, primary_key=True)
    ra: Mapped[float | None] = mapped_column(Float, nullable=True)
    dec: Mapped[float | None] = mapped_column(Float, nullable=True)
    redshift: Mapped[float | None] = mapped_column(Float, nullable=True)
    redshift_history: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    altdata: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    origin: Mapped[str | None] = mapped_column(String, nullable=True)
    alias: Mapped[list[str] | None] = mapped_column(ARRAY(String), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    modified: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _obj_fk() -> Mapped[str]:
    return mapped_column(ForeignKey("objs.id", ondelete="CASCADE"), index=True)


class Candidate(Base):
    """One row per (object, filter, passing alert): a re-delivered alert adds nothing."""

    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("obj_id", "filter_id", "passing_alert_id"),
        # obj_id rides along so that the candidates list's per-object aggregate over a set
        # of filters and a time window is an index-only scan (migration 0002).
        Index(
            "ix_candidates_filter_passed_at",
            "filter_id",
            "passed_at",
            postgresql_include=["obj_id"],
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    obj_id: Mapped[str] = _obj_fk()
    filter_id: Mapped[int] = mapped_column(ForeignKey("filters.id", ondelete="CASCADE"))
    passed_at: Mapped[datetime] = mapped_column()
    passing_alert_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    uploader_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Source(Base):
    """An object saved to a group (or invited to it: requested)."""

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("obj_id", "group_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    obj_id: Mapped[str] = _obj_fk()
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    saved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    requested: Mapped[bool] = mapped_column(Boolean, default=False)
    unsaved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    unsaved_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Annotation(Base):
    __tablename__ = "annotations"
    __table_args__ = (UniqueConstraint("obj_id", "origin"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    obj_id: Mapped[str] = _obj_fk()
    origin: Mapped[str] = mapped_column(String)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


annotation_groups = _link("annotation_groups", "annotation_id:annotations", "group_id:groups")


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    obj_id: Mapped[str] = _obj_fk()
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    bot: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[str | None] = mapped_column(String, nullable=True)
    attachment_name: Mapped[str | None] = mapped_column(String, nullable=True)
    attachment_bytes: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


comment_groups = _link("comment_groups", "comment_id:comments", "group_id:groups")


class Photometry(Base):
    """Flux in µJy (AB, zero point 23.9); flux null is a non-detection."""

    __tablename__ = "photometry"
    __table_args__ = (
        # SkyPortal's duplicate key; a non-detection's null flux counts as a value.
        Index(
            "uq_photometry_point",
            "obj_id",
            "instrument_id",
            "origin",
            "mjd",
            "fluxerr",
            "flux",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    obj_id: Mapped[str] = _obj_fk()
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    mjd: Mapped[float] = mapped_column(Float)
    flux: Mapped[float | None] = mapped_column(Float, nullable=True)
    fluxerr: Mapped[float] = mapped_column(Float)
    filter: Mapped[str] = mapped_column(String)
    ra: Mapped[float | None] = mapped_column(Float, nullable=True)
    dec: Mapped[float | None] = mapped_column(Float, nullable=True)
    origin: Mapped[str | None] = mapped_column(String, nullable=True)
    altdata: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    # What the uploader gave when it was in magnitudes (limiting_mag is reported as posted).
    original_user_data: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The POST or PUT that made the point (SkyPortal's upload_id); null for the broker's.
    upload_id: Mapped[str | None] = mapped_column(String, nullable=True, index=True)


photometry_groups = _link("photometry_groups", "photometry_id:photometry", "group_id:groups")
photometry_streams = _link("photometry_streams", "photometry_id:photometry", "stream_id:streams")


class Thumbnail(Base):
    """The newest stamp of each type per object (new/ref/sub, or a survey's cutout)."""

    __tablename__ = "thumbnails"
    __table_args__ = (UniqueConstraint("obj_id", "type"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    obj_id: Mapped[str] = _obj_fk()
    type: Mapped[str] = mapped_column(String)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    # The alert the stamp came from: a later alert replaces it, the same one changes nothing.
    passing_alert_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- Portal II: classifications, spectra, listings, follow-up ---------------------------------


class Taxonomy(Base):
    __tablename__ = "taxonomies"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String)
    version: Mapped[str] = mapped_column(String)
    hierarchy: Mapped[dict[str, Any]] = mapped_column()
    provenance: Mapped[str | None] = mapped_column(String, nullable=True)
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


taxonomy_groups = _link("taxonomy_groups", "taxonomy_id:taxonomies", "group_id:groups")


class Classification(Base):
    __tablename__ = "classifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    obj_id: Mapped[str] = _obj_fk()
    classification: Mapped[str] = mapped_column(String)
    taxonomy_id: Mapped[int] = mapped_column(ForeignKey("taxonomies.id", ondelete="CASCADE"))
    probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    ml: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[str | None] = mapped_column(String, nullable=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


classification_groups = _link(
    "classification_groups", "classification_id:classifications", "group_id:groups"
)


class Spectrum(Base):
    __tablename__ = "spectra"
    id: Mapped[int] = mapped_column(primary_key=True)
    obj_id: Mapped[str] = _obj_fk()
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    observed_at: Mapped[datetime] = mapped_column()
    wavelengths: Mapped[list[float]] = mapped_column(ARRAY(Float))
    fluxes: Mapped[list[float]] = mapped_column(ARRAY(Float))
    errors: Mapped[list[float] | None] = mapped_column(ARRAY(Float), nullable=True)
    units: Mapped[str | None] = mapped_column(String, nullable=True)
    type: Mapped[str] = mapped_column(String, default="source")
    label: Mapped[str | None] = mapped_column(String, nullable=True)
    origin: Mapped[str | None] = mapped_column(String, nullable=True)
    altdata: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    original_file_string: Mapped[str | None] = mapped_column(Text, nullable=True)
    original_file_filename: Mapped[str | None] = mapped_column(String, nullable=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )


spectrum_groups = _link("spectrum_groups", "spectrum_id:spectra", "group_id:groups")


class Listing(Base):
    """A user's favourites and rejected candidates."""

    __tablename__ = "listings"
    __table_args__ = (UniqueConstraint("user_id", "obj_id", "list_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    obj_id: Mapped[str] = _obj_fk()
    list_name: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Allocation(Base):
    __tablename__ = "allocations"
    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    pi: Mapped[str | None] = mapped_column(String, nullable=True)
    proposal_id: Mapped[str | None] = mapped_column(String, nullable=True)
    validity_ranges: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    hours_allocated: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowupRequest(Base):
    __tablename__ = "followup_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    obj_id: Mapped[str] = _obj_fk()
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id", ondelete="CASCADE"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String, default="pending submission")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_modified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


followup_request_target_groups = _link(
    "followup_request_target_groups", "followup_request_id:followup_requests", "group_id:groups"
)


# ---- the candidates list (migration 0002) ---------------------------------------------------

# Saved-status filters read a group's active saves; the classification filters read by name.
Index(
    "ix_sources_active_group_id_obj_id",
    Source.group_id,
    Source.obj_id,
    postgresql_where=Source.active,
)
Index(
    "ix_classifications_classification_obj_id", Classification.classification, Classification.obj_id
)


# ---- sources list and candidate expiry (migration 0003) --------------------------------------

# The sources list reads a group's saves newest first; its cone search narrows on declination.
Index("ix_sources_group_id_saved_at", Source.group_id, Source.saved_at)
Index("ix_objs_dec", Obj.dec)


# ---- photometry upload, spectra, follow-up (migration 0004) ----------------------------------

# A source's follow-up requests and an allocation's, and the spectra of a group.
Index("ix_followup_requests_allocation_id", FollowupRequest.allocation_id)
Index("ix_allocations_group_id", Allocation.group_id)


# ---- the dashboard: source views, the news feed (migration 0005) -----------------------------


class SourceView(Base):
    """One ``GET /api/sources/{obj_id}`` that answered: who looked (the user, and the API token
    when one was used) and when. The dashboard's top sources count these."""

    __tablename__ = "source_views"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    obj_id: Mapped[str] = _obj_fk()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # No foreign key: revoking a token leaves its history as it was.
    token_id: Mapped[str | None] = mapped_column(String, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# The top sources read people's views (not tokens') of a time window, grouped by object: an
# index-only scan of the window.
Index(
    "ix_source_views_created_at_obj_id",
    SourceView.created_at,
    SourceView.obj_id,
    postgresql_where=SourceView.token_id.is_(None),
)
# The news feed reads the newest comments and classifications.
Index("ix_comments_created_at", Comment.created_at)
Index("ix_classifications_created_at", Classification.created_at)
