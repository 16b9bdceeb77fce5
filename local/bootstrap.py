"""Create the local stack's resources from the code's own definitions, idempotently:
tables from the PynamoDB models, the bucket with its public-read policy for image objects,
the Cognito user pool with its staff group and app client."""

from __future__ import annotations

import json
import os

import boto3
from botocore.exceptions import ClientError

from accounts import pool
from accounts.records import MODELS as ACCOUNT_MODELS
from common.config import get_config
from images.objects import PUBLIC_PREFIXES
from images.records import MODELS as IMAGE_MODELS


def ensure_tables() -> list[str]:
    """Create each model's table unless it exists; return the names created."""
    created = []
    for model in (*IMAGE_MODELS, *ACCOUNT_MODELS):
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
    return created


def bucket_policy(bucket: str) -> dict:
    """Anyone may GET image objects and thumbnails; nobody may list the bucket."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadImageObjects",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*" for prefix in PUBLIC_PREFIXES],
            }
        ],
    }


def ensure_bucket(portal_origin: str) -> bool:
    """Create the bucket with its policy unless it exists, and set its CORS (as infra/s3.tf:
    the portal's origin may POST presigned uploads); True if created."""
    config = get_config()
    s3 = boto3.client("s3", region_name=config.aws_region)
    try:
        s3.head_bucket(Bucket=config.images_bucket)
        created = False
    except ClientError:
        s3.create_bucket(Bucket=config.images_bucket)
        s3.put_bucket_ownership_controls(
            Bucket=config.images_bucket,
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        )
        created = True
    # Every start: a newer version of the code may make more prefixes public (renditions/).
    s3.put_bucket_policy(Bucket=config.images_bucket, Policy=json.dumps(bucket_policy(config.images_bucket)))
    # Every start: the portal's port may differ from the last one.
    s3.put_bucket_cors(
        Bucket=config.images_bucket,
        CORSConfiguration={
            "CORSRules": [
                {"AllowedMethods": ["POST", "PUT"], "AllowedOrigins": sorted({portal_origin, portal_origin.replace("127.0.0.1", "localhost")}), "AllowedHeaders": ["*"],
                 "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}
            ]
        },
    )
    return created


def _pool_settings(region: str) -> dict:
    """What CreateUserPool and UpdateUserPool share. The PreSignUp trigger is always attached
    locally (it confirms only what API_SIGNUP_REQUIRES_CONFIRMATION lets it)."""
    trigger = f"arn:aws:lambda:{region}:123456789012:function:{pool.PRE_SIGN_UP_FUNCTION}"
    return {
        "Policies": {"PasswordPolicy": pool.PASSWORD_POLICY},
        "AutoVerifiedAttributes": ["email"],
        "AccountRecoverySetting": {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
        "LambdaConfig": {"PreSignUp": trigger},
    }


def ensure_user_pool() -> dict[str, str]:
    """Find or create the user pool, staff group and portal client; return their ids."""
    config = get_config()
    cognito = boto3.client("cognito-idp", region_name=config.aws_region)
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((p["Id"] for p in pools if p["Name"] == pool.POOL_NAME), None)
    settings = _pool_settings(config.aws_region)
    if pool_id is None:
        pool_id = cognito.create_user_pool(
            PoolName=pool.POOL_NAME,
            UsernameConfiguration={"CaseSensitive": False},
            Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}],
            **settings,
        )["UserPool"]["Id"]
    elif cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("LambdaConfig") != settings["LambdaConfig"]:
        cognito.update_user_pool(UserPoolId=pool_id, **settings)  # a pool made before the trigger
    groups = cognito.list_groups(UserPoolId=pool_id)["Groups"]
    if not any(g["GroupName"] == config.cognito_staff_group for g in groups):
        cognito.create_group(UserPoolId=pool_id, GroupName=config.cognito_staff_group, Description="Portal staff")
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == pool.PORTAL_CLIENT_NAME), None)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=pool.PORTAL_CLIENT_NAME,
            GenerateSecret=False,
            ExplicitAuthFlows=pool.EXPLICIT_AUTH_FLOWS,
            ReadAttributes=pool.READ_ATTRIBUTES,
            WriteAttributes=pool.WRITE_ATTRIBUTES,
            EnableTokenRevocation=True,
            PreventUserExistenceErrors="ENABLED",
            **pool.TOKEN_VALIDITY,
        )["UserPoolClient"]["ClientId"]
    elif "IdTokenValidity" not in cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]:
        # A client made before tokens were short-lived (moto merges what UpdateUserPoolClient gets).
        cognito.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, **pool.TOKEN_VALIDITY)
    return {"COGNITO_USER_POOL_ID": pool_id, "COGNITO_CLIENT_ID": client_id}


def ensure_stack(portal_origin: str = "http://127.0.0.1:8000") -> dict[str, str]:
    """Create whatever is missing; return the environment variables the faces need."""
    ensure_tables()
    ensure_bucket(portal_origin)
    return ensure_user_pool()


if __name__ == "__main__":
    # Print the ids as NAME=value lines for the parent (local/stack.py).
    for name, value in ensure_stack(os.environ.get("PORTAL_ORIGIN", "http://127.0.0.1:8000")).items():
        print(f"{name}={value}")
