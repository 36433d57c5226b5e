"""The components this package offers to every Pulumi language, in the order a program chains them."""

import pulumi

from components.argocd_extension import ArgoCdExtension
from components.argocd_release import ArgoCdRelease
from components.cluster import AksCluster
from components.devops_access import AzureDevOpsAccess
from components.entra_sso import EntraSingleSignOn
from components.registry_access import ContainerRegistryAccess
from components.spoke_access import SpokeAccess
from components.vocabulary import PACKAGE
from components.workload_identity import WorkloadIdentity

# The version written into the package's schema and so into every generated SDK; raise it with each tagged release.
PACKAGE_VERSION = "0.1.0"
COMPONENTS: tuple[type[pulumi.ComponentResource], ...] = (
    AksCluster,
    WorkloadIdentity,
    AzureDevOpsAccess,
    ContainerRegistryAccess,
    EntraSingleSignOn,
    ArgoCdRelease,
    ArgoCdExtension,
    SpokeAccess,
)

__all__ = ["COMPONENTS", "PACKAGE", "PACKAGE_VERSION"]
