"""Who may override which vserver: the access grants of cluster.pb.

A USER grant gives that user access; a GROUP grant gives every member of
the named access group access (a grant naming a group that does not exist
grants nothing and is reported). The grant's role is not used, as in
Seesaw v2. With no grants at all nobody has access: the map fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seesaw.config.model import AccessType, Cluster


@dataclass
class VserverAccess:
    # vserver -> user -> the grant that gave access ("user:x" / "group:y")
    grants: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_cluster(cls, cluster: Cluster) -> VserverAccess:
        access = cls()
        for vs in cluster.vservers.values():
            for grant in vs.access_grants.values():
                if grant.type == AccessType.USER:
                    access.grant(vs.name, grant.grantee, grant.key)
                    continue
                members = cluster.access_groups.get(grant.grantee)
                if members is None:
                    access.warnings.append(
                        f"{vs.name}: access grant names group {grant.grantee!r}, which is not defined; "
                        "add it to access_groups in cluster.pb"
                    )
                    continue
                for user in members:
                    access.grant(vs.name, user, grant.key)
        return access

    def grant(self, vserver: str, user: str, reason: str) -> None:
        self.grants.setdefault(vserver, {})[user] = reason

    def has_access(self, vserver: str, user: str) -> tuple[bool, str]:
        """(allowed, why): the grant that allows it, or why not."""
        reason = self.grants.get(vserver, {}).get(user)
        if reason is None:
            return False, f"no access grant for {user!r} on vserver {vserver!r}"
        return True, reason
