"""ComplianceManager: retention of resolved alerts per tenant (and, next, the compliance
report and GDPR export and erasure).

Works through the storage ports and callbacks given by the composition root; must not
import other capabilities.
"""

from core_alerts.compliance.retention import RetentionJob

__all__ = ["RetentionJob"]
