"""Fixtures: a small OneRoster 1.2 set written by the tests, with every file Homeroom reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.oneroster_csv import OneRosterCsvAdapter

from .csv_sets import adapter_for, write_set

SAMPLE = ("data", "oneroster", "edfi-lms-toolkit-v1p1")

V12_FILES = {
    "manifest.csv": """
        propertyName,value
        manifest.version,1.0
        oneroster.version,1.2
        file.academicSessions,bulk
        file.categories,bulk
        file.classes,bulk
        file.classResources,absent
        file.courses,bulk
        file.courseResources,absent
        file.demographics,bulk
        file.enrollments,bulk
        file.lineItems,bulk
        file.orgs,bulk
        file.resources,absent
        file.results,bulk
        file.roles,bulk
        file.users,bulk
        file.courseGrades,bulk
        file.attendance,bulk
        source.systemName,Test SIS
    """,
    "orgs.csv": """
        sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
        d1,active,2024-07-01T00:00:00Z,Maple District,district,D-001,
        s1,active,2024-07-01T00:00:00Z,Maple High,school,S-001,d1
        s2,active,2024-07-01T00:00:00Z,Birch Middle,school,S-002,d1
    """,
    "academicSessions.csv": """
        sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear
        y2025,active,,2024-2025,schoolYear,2024-08-15,2025-06-13,,2025
        f2024,active,,Fall 2024,semester,2024-08-15,2025-01-10,y2025,2025
        sp2025,active,,Spring 2025,semester,2025-01-13,2025-06-13,y2025,2025
        gp1,active,,Q1,gradingPeriod,2024-08-15,2024-10-18,f2024,2025
    """,
    "courses.csv": """
        sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes
        c-alg,active,,y2025,Algebra I,ALG1,"9,10",d1,Mathematics,02052
    """,
    "classes.csv": """
        sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
        k1,active,,Algebra I - P1,09,c-alg,ALG1-1,scheduled,Room 12,s1,"f2024,sp2025",Mathematics,02052,"1,2"
        k2,active,,Algebra I - P3,09,c-alg,ALG1-3,Scheduled,Room 4,s2,f2024,Mathematics,02052,3
        k3,active,,Homeroom,09,c-alg,HR,homeroom,,s1,f2024,,,
    """,
    "users.csv": """
        sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns
        stu1,active,,TRUE,alopez,{SIS:1001},Ana,Lopez,María,1001,ana@maple.k12.us,,,gua1,9,,,Annie,,,s1,
        stu2,active,,true,bokafor,{SIS:1002},Ben,Okafor,,1002,,,,,K,,,,,,,
        stu3,active,,1,cyu,{SIS:1003},Cy,Yu,,1003,,,,rel1,10,,,,,,,
        tch1,active,,true,tkim,,Tara,Kim,,T-1,tkim@maple.k12.us,,(555) 010-0001,,,,,,,,s1,
        prn1,active,,false,pdoe,,Pat,Doe,,T-2,,,,,,,,,,,s2,
        gua1,active,,true,,,Gil,Lopez,,,gil@example.com,,(555) 010-0002,,,,,,,,,
        gua2,active,,true,,,Grace,Okafor,,,,,,stu2,,,,,,,,
        rel1,active,,true,,,Rae,Yu,,,,,,"stu3,tch1",,,,,,,,
        stu9,tobedeleted,,true,,,Gone,Student,,,,,,,09,,,,,,,
    """,
    "roles.csv": """
        sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId
        r1,active,,stu1,primary,student,,,s1,
        r2,active,,stu2,primary,Student,,,s2,
        r3,active,,stu3,primary,student,,,s1,
        r4,active,,stu3,secondary,student,,,s2,
        r5,active,,tch1,secondary,parent,,,s1,
        r6,active,,tch1,primary,teacher,,,s1,
        r7,active,,prn1,primary,principal,,,s2,
        r8,active,,gua1,primary,guardian,,,s1,
        r9,active,,gua2,primary,parent,,,s2,
        r10,active,,rel1,primary,relative,,,s1,
    """,
    "demographics.csv": """
        sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus,metadata.programs,metadata.directoryOptOut
        stu1,active,,2010-03-04,Female,false,true,false,false,TRUE,false,false,US,WA,Seattle,,"IEP, ell",Y
        stu2,active,,2019-11-30,male,,,,,,,,,,,,,
    """,
    "enrollments.csv": """
        sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
        e1,active,,k1,s1,stu1,student,false,2024-08-15,2025-06-13
        e2,active,,k2,,stu2,student,false,2024-08-15,
        e3,active,,k1,s1,stu3,Student,,,
        e4,active,,k1,s1,tch1,teacher,true,2024-08-15,2025-06-13
        e5,active,,k2,s2,prn1,administrator,false,,
        e6,inactive,,k3,s1,stu1,student,false,,
        e7,active,,k3,s1,stu1,student,false,,
    """,
    "categories.csv": """
        sourcedId,status,dateLastModified,title,weight
        cat-hw,active,,Homework,0.4
        cat-test,active,,Tests,0.6
    """,
    "lineItems.csv": """
        sourcedId,status,dateLastModified,title,description,assignDate,dueDate,classSourcedId,categorySourcedId,academicSessionSourcedId,resultValueMin,resultValueMax,schoolSourcedId
        li1,active,,Quiz 1,Linear equations,2024-09-01,2024-09-08T23:59:00-05:00,k1,cat-test,gp1,0,20,s1
        li2,active,,Homework 1,,2024-09-02T12:00:00Z,2024-09-10,k2,cat-hw,,0,10.5,s2
    """,
    "results.csv": """
        sourcedId,status,dateLastModified,lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,comment,textScore,classSourcedId,inProgress,incomplete,late,missing
        res1,active,,li1,stu1,fully graded,18,2024-09-09,Nice work,,k1,false,false,false,false
        res2,active,,li1,stu3,notSubmitted,,,,,,,,,TRUE
        res3,active,,li2,stu2,Partially Graded,7.5,2024-09-11T15:30:00Z,,,k2,,,Y,N
    """,
    "courseGrades.csv": """
        sourcedId,status,dateLastModified,classSourcedId,studentSourcedId,academicSessionSourcedId,letterGrade,percent
        cg1,active,,k1,stu1,f2024,A-,91.5
        cg2,active,,k2,stu2,f2024,B,85
        cg3,active,,k1,stu3,,,
    """,
    "attendance.csv": """
        sourcedId,status,dateLastModified,userSourcedId,classSourcedId,schoolSourcedId,date,attendanceStatus
        a1,active,,stu1,k1,s1,2024-09-03,present
        a2,active,,stu1,k1,,2024-09-04,Tardy
        a3,active,,stu2,,,2024-09-04,ABSENT
        a4,active,,stu3,k1,s1,2024-09-05,early departure
        a5,active,,stu1,,s1,2024-09-06,excused
    """,
}


@pytest.fixture
def v12_dir(tmp_path: Path) -> Path:
    """The small 1.2 set as a folder."""
    return write_set(tmp_path / "v12", V12_FILES)


@pytest.fixture
async def v12(v12_dir: Path) -> OneRosterCsvAdapter:
    """An opened adapter over the small 1.2 set."""
    adapter = adapter_for(v12_dir)
    await adapter.open()
    return adapter
