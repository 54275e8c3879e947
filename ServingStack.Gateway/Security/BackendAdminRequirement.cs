using Microsoft.AspNetCore.Authorization;

namespace ServingStack.Gateway.Security;

/// <summary>
/// The requirement of <see cref="AuthSchemes.AdminPolicy"/>: the gateway's admin credential (the admin API key, or a
/// JWT role / API key scope equal to <see cref="GatewayAuthOptions.AdminRole"/>).
/// </summary>
public sealed class BackendAdminRequirement : IAuthorizationRequirement;
