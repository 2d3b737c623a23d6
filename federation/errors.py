"""The error tree of the federation package.

Every error raised by ``federation`` derives from :class:`FederationError`, itself an ``Exception``
(never a ``BaseException``), so a caller can always tell a signature problem from a fetch problem
and map each to its own HTTP status::

    FederationError
    ├── SignatureError               a request's signature cannot be accepted
    │   ├── SignatureMissingError        no Signature / Signature-Input header
    │   ├── SignatureMalformedError      a header that does not parse
    │   ├── SignatureExpiredError        Date / created / expires outside the window
    │   ├── SignatureInvalidError        the signature does not verify
    │   ├── UnsupportedAlgorithmError    an algorithm we do not accept
    │   ├── DigestMismatchError          Digest / Content-Digest absent, unsigned or wrong
    │   └── KeyUnavailableError          the key could not be retrieved
    ├── KeyFormatError               a key that does not parse or is too weak
    ├── HostError                    a host name that cannot be normalised
    ├── HandleError                  an ``@name@host`` handle that does not parse
    ├── OriginError                  an activity's ids are not on its actor's origin (FEP-fe34)
    ├── FetchError                   a remote document could not be fetched
    │   ├── AddressBlockedError          refused by the address policy (SSRF guard)
    │   ├── HostBlockedError             the host is blocked or not allowlisted; nothing was sent
    │   ├── FetchTimeoutError            a timeout or the total time budget ran out
    │   ├── FetchConnectionError         connection, DNS, TLS or protocol failure
    │   ├── RedirectError                a redirect to another origin, or too many
    │   ├── RemoteNotFoundError          404
    │   ├── RemoteGoneError              410 or a Tombstone
    │   ├── ResponseTooLargeError        over the size cap
    │   ├── ContentTypeError             not an ActivityStreams media type
    │   ├── IdMismatchError              the document's id is not the URL fetched
    │   ├── DiscoveryError               a discovery document (WebFinger, NodeInfo) is unusable
    │   │   └── WebFingerError               WebFinger gave no usable actor, or the round trip failed
    ├── ExchangeError                an outbound HTTP/1.1 exchange failed (the transport maps it to httpx's)
    ├── DeliveryError                an activity could not be delivered
    ├── SigningError                 a signature could not be computed
    │   ├── SigningPoolClosedError       asked of a closed signing pool
    │   ├── SigningProcessError          the signing process could not start, or stopped
    │   ├── SigningProtocolError         a malformed frame between the pool and its process
    │   └── SigningFailedError           the signing process could not sign this data
    └── JsonLdError                  a JSON-LD document cannot be processed offline
        ├── ContextNotAllowedError       a context URL we do not ship
        └── UndefinedTermError           a term no context defines
"""

from __future__ import annotations

from enum import StrEnum


class FederationError(Exception):
    """Base class of every error raised by the federation package."""


class SignatureError(FederationError):
    """A request's HTTP signature cannot be accepted; the inbox answers 401 (400 when malformed)."""


class SignatureMissingError(SignatureError):
    """The request carries no signature at all."""


class SignatureMalformedError(SignatureError):
    """A signature header is present but does not parse, or lacks a required parameter."""


class SignatureExpiredError(SignatureError):
    """The signed date, ``created`` or ``expires`` lies outside the accepted clock window."""


class SignatureInvalidError(SignatureError):
    """The signature is well formed but does not verify against the signer's key."""


class UnsupportedAlgorithmError(SignatureError):
    """The signature names an algorithm, or a key type, that we do not accept."""


class DigestMismatchError(SignatureError):
    """The body digest is missing, not covered by the signature, or does not match the body."""


class KeyUnavailableError(SignatureError):
    """The key named by the signature could not be retrieved (unknown, gone or unreachable)."""


class KeyFormatError(FederationError):
    """A key document or PEM that cannot be parsed, or a key below the minimum strength."""


class HostError(FederationError):
    """A host name that is empty, malformed or not valid IDNA."""


class HandleError(FederationError):
    """A handle that is not ``@name@host``, ``name@host`` or ``acct:name@host`` with a valid host."""


class OriginError(FederationError):
    """An activity's id, or its object's id or author, is not on the origin of its actor (FEP-fe34)."""


class FetchError(FederationError):
    """A remote document could not be fetched or was not acceptable."""


class AddressBlockedError(FetchError):
    """The URL or the address it resolves to is refused by the address policy (SSRF guard)."""


class HostBlockedError(FetchError):
    """The host is blocked, or not allowlisted in regional mode; no request was made."""


class FetchTimeoutError(FetchError):
    """A phase timeout or the total time budget of the request ran out."""


class FetchConnectionError(FetchError):
    """The connection failed: DNS, refused connection, TLS, reset or a protocol violation."""


class RedirectError(FetchError):
    """A redirect left the origin of the requested URL, had no usable Location, or there were too many."""


class RemoteNotFoundError(FetchError):
    """The remote server answered 404."""


class RemoteGoneError(FetchError):
    """The remote object is deleted: the server answered 410 or served a Tombstone."""


class ResponseTooLargeError(FetchError):
    """The response body exceeded the size cap while it was streamed."""


class ContentTypeError(FetchError):
    """The response is not an ActivityStreams document (wrong or missing Content-Type)."""


class IdMismatchError(FetchError):
    """The fetched document's ``id`` differs from the URL it was fetched from."""


class DiscoveryError(FetchError):
    """A discovery document (WebFinger, host-meta, NodeInfo) is missing, malformed or unusable."""


class WebFingerError(DiscoveryError):
    """WebFinger answered without a usable ActivityStreams ``self`` link, or the round trip failed."""


class ExchangeFailure(StrEnum):
    """Where an outbound HTTP/1.1 exchange failed; :mod:`federation.transport` maps each to an httpx error."""

    CONNECT = "connect"
    CONNECT_TIMEOUT = "connect timeout"
    POOL_TIMEOUT = "pool timeout"
    WRITE = "write"
    WRITE_TIMEOUT = "write timeout"
    READ = "read"
    READ_TIMEOUT = "read timeout"
    PROTOCOL = "protocol"
    LOCAL_PROTOCOL = "local protocol"
    CLOSED = "closed"


class ExchangeError(FederationError):
    """An outbound HTTP/1.1 exchange failed at ``failure`` (connecting, writing, reading, parsing...)."""

    def __init__(self, failure: ExchangeFailure, message: str) -> None:
        super().__init__(message)
        self.failure = failure


class DeliveryError(FederationError):
    """An activity could not be delivered to an inbox."""


class SigningError(FederationError):
    """A signature could not be computed; the delivery that asked for it is retried later."""


class SigningPoolClosedError(SigningError):
    """A signature was asked of a signing pool that is closed (the process is stopping)."""


class SigningProcessError(SigningError):
    """The signing process could not be started, or stopped before answering."""


class SigningProtocolError(SigningError):
    """A frame between the signing pool and its process is malformed (a bug on one side)."""


class SigningFailedError(SigningError):
    """The signing process refused one item (an unknown key handle, a key that cannot sign)."""


class JsonLdError(FederationError):
    """A JSON-LD document cannot be processed with the bundled contexts alone."""


class ContextNotAllowedError(JsonLdError):
    """The document references a context URL that is not shipped with the package."""


class UndefinedTermError(JsonLdError):
    """A document uses a term that none of its contexts defines."""
