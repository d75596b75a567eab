"""Authentication, roles, TLS, rate limits, the audit trail and agent permissions."""

from caxton.security.permissions import GRPC, REST, ROLE_PERMISSIONS, Permission, Role
from caxton.security.principal import OPEN_PRINCIPAL, ClientCertificate, Principal

__all__ = ["GRPC", "OPEN_PRINCIPAL", "REST", "ROLE_PERMISSIONS", "ClientCertificate",
           "Permission", "Principal", "Role"]
