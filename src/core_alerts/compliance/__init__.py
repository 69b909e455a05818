"""ComplianceManager: the compliance report (SOC 2, ISO 27001, GDPR, HIPAA controls the
service can evidence), retention of resolved alerts per tenant, and GDPR export and
erasure of a data subject.

Works through the storage ports and callbacks given by the composition root; must not
import other capabilities.
"""

from core_alerts.compliance.checks import Facts
from core_alerts.compliance.report import ComplianceManager, ComplianceReport, render_html
from core_alerts.compliance.retention import RetentionJob
from core_alerts.compliance.subjects import SubjectExport, SubjectRequests

__all__ = [
    "ComplianceManager",
    "ComplianceReport",
    "Facts",
    "RetentionJob",
    "SubjectExport",
    "SubjectRequests",
    "render_html",
]
