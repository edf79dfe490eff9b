"""Tests of the prediction-error models (queuetheory.predictions).

Reference values: ``tests/reference/predictions_reference.py`` (mpmath, 30 digits,
integrals of the definitions over x; independent of the package). The
exponential/exponential closed forms (formulas.md §9, generalised to mean m) must
match to 1e-12 relative; quadrature-based joint laws to 1e-10 (their per-value
tolerance is 1e-12, the issue asks for <= 1e-8).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from local_laws import LocalWeibull
from scipy import special

import queuetheory as qt
from queuetheory.distributions.base import SizeDistribution
from queuetheory.errors import ParameterError
from queuetheory.predictions.base import JointLaw, PredictionModel
from queuetheory.predictions.exponential import ExponentialExponentialJoint, bessel_b
from queuetheory.predictions.multiplicative import MultiplicativeJoint
from queuetheory.predictions.perfect import PerfectJoint

REFERENCE = {
    ('exp', '1', '1e-6'): {
        'lower0': '0.000013661086808702155331',
        'upper0': '0.99998633891319129784',
        'density0': '12.661093889244351814',
        'lower1': '9.9999291945780351696e-7',
        'upper1': '0.9999990000070805422',
        'density1': '0.99998633891319129784',
        'lower2': '9.9999950000241573608e-7',
        'upper2': '1.9999990000004999976',
        'density2': '0.9999990000070805422',
    },
    ('exp', '1', '0.001'): {
        'lower0': '0.0067574513684422573025',
        'upper0': '0.9932425486315577427',
        'density0': '5.7610794617209213259',
        'lower1': '0.00099637190672133597663',
        'upper1': '0.99900362809327866402',
        'density1': '0.9932425486315577427',
        'lower2': '0.00099950126481111421057',
        'upper2': '1.9990004987351888858',
        'density2': '0.99900362809327866402',
    },
    ('exp', '1', '0.1'): {
        'lower0': '0.23343313884643195363',
        'upper0': '0.76656686115356804637',
        'density0': '1.4734741956221933201',
        'lower1': '0.086085719284212621627',
        'upper1': '0.91391428071578737837',
        'density1': '0.76656686115356804637',
        'lower2': '0.095514752453068438617',
        'upper2': '1.9044852475469315614',
        'density2': '0.91391428071578737837',
    },
    ('exp', '1', '0.5'): {
        'lower0': '0.55565747636776395866',
        'upper0': '0.44434252363223604134',
        'density0': '0.47828442145216231092',
        'lower1': '0.3165152656416828032',
        'upper1': '0.6834847343583171968',
        'density1': '0.44434252363223604134',
        'lower2': '0.41085926946724758573',
        'upper2': '1.5891407305327524143',
        'density2': '0.6834847343583171968',
    },
    ('exp', '1', '1'): {
        'lower0': '0.72026823636695514543',
        'upper0': '0.27973176363304485457',
        'density0': '0.22778774549906687131',
        'lower1': '0.49248049086788827413',
        'upper1': '0.50751950913211172587',
        'density1': '0.27973176363304485457',
        'lower2': '0.70522921810273169368',
        'upper2': '1.2947707818972683063',
        'density2': '0.50751950913211172587',
    },
    ('exp', '1', '3'): {
        'lower0': '0.91966174834247375833',
        'upper0': '0.080338251657526241672',
        'density0': '0.040828447312075970306',
        'lower1': '0.79717640640624584741',
        'upper1': '0.20282359359375415259',
        'density1': '0.080338251657526241672',
        'lower2': '1.3533380578399129698',
        'upper2': '0.64666194216008703019',
        'density2': '0.20282359359375415259',
    },
    ('exp', '1', '10'): {
        'lower0': '0.9940323069611794887',
        'upper0': '0.0059676930388205113039',
        'density0': '0.0017533146068215746516',
        'lower1': '0.97649916089296374218',
        'upper1': '0.02350083910703625782',
        'density1': '0.0059676930388205113039',
        'lower2': '1.8933213913977223713',
        'upper2': '0.10667860860227762868',
        'density2': '0.02350083910703625782',
    },
    ('exp', '1', '40'): {
        'lower0': '0.99998527520213477343',
        'upper0': '0.000014724797865226568079',
        'density0': '2.241229864539647646e-6',
        'lower1': '0.99989562600755318753',
        'upper1': '0.00010437399244681247392',
        'density1': '0.000014724797865226568079',
        'lower2': '1.9992022601004973123',
        'upper2': '0.00079773989950268767101',
        'density2': '0.00010437399244681247392',
    },
    ('exp', '2.5', '1e-6'): {
        'lower0': '5.8309492702038323725e-6',
        'upper0': '0.99999416905072979617',
        'density0': '5.4309504763936042228',
        'lower1': '9.9999698452557037415e-7',
        'upper1': '2.4999990000030154744',
        'density1': '0.99999416905072979617',
        'lower2': '2.4999995000010273803e-6',
        'upper2': '12.499997500000499999',
        'density2': '2.4999990000030154744',
    },
    ('exp', '2.5', '0.001'): {
        'lower0': '0.0030685794949467129381',
        'upper0': '0.99693142050505328706',
        'density0': '2.6692331654914444086',
        'lower1': '0.00099836582363817132354',
        'upper1': '2.4990016341763618287',
        'density1': '0.99693142050505328706',
        'lower2': '0.0024995005669282234001',
        'upper2': '12.497500499433071777',
        'density2': '2.4990016341763618287',
    },
    ('exp', '2.5', '0.1'): {
        'lower0': '0.12625823010692504811',
        'upper0': '0.87374176989307495189',
        'density0': '0.89162330761954752494',
        'lower1': '0.092739748362425739043',
        'upper1': '2.407260251637574261',
        'density1': '0.87374176989307495189',
        'lower2': '0.24526329933885995724',
        'upper2': '12.254736700661140043',
        'density2': '2.407260251637574261',
    },
    ('exp', '2.5', '0.5'): {
        'lower0': '0.35267612187417084704',
        'upper0': '0.64732387812582915296',
        'density0': '0.3925947370440941153',
        'lower1': '0.39094688338030947347',
        'upper1': '2.1090531166196905265',
        'density1': '0.64732387812582915296',
        'lower2': '1.1455795692442609261',
        'upper2': '11.354420430755739074',
        'density2': '2.1090531166196905265',
    },
    ('exp', '2.5', '1'): {
        'lower0': '0.50286906226795749082',
        'upper0': '0.49713093773204250918',
        'density0': '0.2333401651260655457',
        'lower1': '0.67382224285472986281',
        'upper1': '1.8261777571452701372',
        'density1': '0.49713093773204250918',
        'lower2': '2.1262838699435430411',
        'upper2': '10.373716130056456959',
        'density2': '1.8261777571452701372',
    },
    ('exp', '2.5', '3'): {
        'lower0': '0.76083177692770514242',
        'upper0': '0.23916822307229485758',
        'density0': '0.072206147487920543216',
        'lower1': '1.3605333361598587819',
        'upper1': '1.1394666638401412181',
        'density1': '0.23916822307229485758',
        'lower2': '5.0089050077570824777',
        'upper2': '7.4910949922429175223',
        'density2': '1.1394666638401412181',
    },
    ('exp', '2.5', '10'): {
        'lower0': '0.95006600445092627412',
        'upper0': '0.049933995549073725882',
        'density0': '0.0089277408686824194158',
        'lower1': '2.1519714894102551999',
        'upper1': '0.3480285105897448001',
        'density1': '0.049933995549073725882',
        'lower2': '9.5115075583244328525',
        'upper2': '2.9884924416755671475',
        'density2': '0.3480285105897448001',
    },
    ('exp', '2.5', '40'): {
        'lower0': '0.99875704630555999093',
        'upper0': '0.0012429536944400090713',
        'density0': '0.00011717656417825230968',
        'lower1': '2.4851749593460747464',
        'upper1': '0.014825040653925253646',
        'density1': '0.0012429536944400090713',
        'lower2': '12.301579427286372825',
        'upper2': '0.19842057271362717536',
        'density2': '0.014825040653925253646',
    },
    'sprpt_old_job': {
        '0.3': '0.4585720078618639422',
        '2': '0.23723675566303233392',
    },
    ('weibull-exp', '0.5', '0.01'): {
        'lower0': '0.14732064245594105866',
        'upper0': '0.85267935754405894134',
        'density0': '6.3432158237777403972',
        'lower1': '0.0089799486059373611951',
        'upper1': '1.9910200513940626388',
        'density1': '0.85267935754405894134',
        'lower2': '0.019954161187331344048',
        'upper2': '23.980045838812668656',
        'density2': '1.9910200513940626388',
    },
    ('weibull-exp', '0.5', '0.5'): {
        'lower0': '0.60005622132030513702',
        'upper0': '0.39994377867969486298',
        'density0': '0.31176548311092030655',
        'lower1': '0.26966907528628301191',
        'upper1': '1.7303309247137169881',
        'density1': '0.39994377867969486298',
        'lower2': '0.9245445269260015215',
        'upper2': '23.075455473073998478',
        'density2': '1.7303309247137169881',
    },
    ('weibull-exp', '0.5', '2'): {
        'lower0': '0.80485003341495992134',
        'upper0': '0.19514996658504007866',
        'density0': '0.065220647806794287047',
        'lower1': '0.677094213198814379',
        'upper1': '1.322905786801185621',
        'density1': '0.19514996658504007866',
        'lower2': '3.178600861776262382',
        'upper2': '20.821399138223737618',
        'density2': '1.322905786801185621',
    },
    ('weibull-exp', '0.5', '7'): {
        'lower0': '0.93305503604109777767',
        'upper0': '0.066944963958902222325',
        'density0': '0.010219618064740178666',
        'lower1': '1.2365424737309262597',
        'upper1': '0.76345752626907374025',
        'density1': '0.066944963958902222325',
        'lower2': '8.1493170669588845356',
        'upper2': '15.850682933041115464',
        'density2': '0.76345752626907374025',
    },
    ('weibull-exp', '2', '0.01'): {
        'lower0': '0.017200018293101050851',
        'upper0': '0.98279998170689894915',
        'density0': '1.6774916969534349995',
        'lower1': '0.0099132363336325213575',
        'upper1': '0.87631368911912549229',
        'density1': '0.98279998170689894915',
        'lower2': '0.0088125598083338758531',
        'upper2': '0.99118744019166612415',
        'density2': '0.87631368911912549229',
    },
    ('weibull-exp', '2', '0.5'): {
        'lower0': '0.49364765223545928266',
        'upper0': '0.50635234776454071734',
        'density0': '0.59743470567351776783',
        'lower1': '0.35546283718813065145',
        'upper1': '0.53076408826462736219',
        'density1': '0.50635234776454071734',
        'lower2': '0.3442889758170798407',
        'upper2': '0.6557110241829201593',
        'density2': '0.53076408826462736219',
    },
    ('weibull-exp', '2', '2'): {
        'lower0': '0.88510677137166761783',
        'upper0': '0.11489322862833238217',
        'density0': '0.099752993206067580412',
        'lower1': '0.73714936145356885012',
        'upper1': '0.14907756399918916353',
        'density1': '0.11489322862833238217',
        'lower2': '0.78535377816560003742',
        'upper2': '0.21464622183439996258',
        'density2': '0.14907756399918916353',
    },
    ('weibull-exp', '2', '7'): {
        'lower0': '0.99673852357260408943',
        'upper0': '0.0032614764273959105666',
        'density0': '0.002009173668026707701',
        'lower1': '0.88059701236991606978',
        'upper1': '0.0056299130828419438718',
        'density1': '0.0032614764273959105666',
        'lower2': '0.98970641573451061248',
        'upper2': '0.01029358426548938752',
        'density2': '0.0056299130828419438718',
    },
    ('weibull-uniform0.3', '2', '0.01'): {
        'lower0': '0.00010988327607857592126',
        'upper0': '0.99989011672392142408',
        'density0': '0.02197528851652111046',
        'lower1': '8.0499217334327656995e-7',
        'upper1': '0.88622612046058467037',
        'density1': '0.00024148493730759558124',
        'lower2': '6.8334959703689541645e-9',
        'upper2': '0.99999999316650402963',
        'density2': '2.733272167462438781e-6',
    },
    ('weibull-uniform0.3', '2', '0.5'): {
        'lower0': '0.23651341091717449339',
        'upper0': '0.76348658908282550661',
        'density0': '0.80962326329499387954',
        'lower1': '0.083094828598247711437',
        'upper1': '0.80313209685451030221',
        'density1': '0.43686552271686000467',
        'lower2': '0.034107595093426023504',
        'upper2': '0.9658924049065739765',
        'density2': '0.24296153533068241392',
    },
    ('weibull-uniform0.3', '2', '2'): {
        'lower0': '0.9715842188764897604',
        'upper0': '0.028415781123510239596',
        'density0': '0.08721478008745116741',
        'lower1': '0.82949007159010430145',
        'upper1': '0.056736853862653712202',
        'density1': '0.15581570062272000423',
        'lower2': '0.88436943878903859299',
        'upper2': '0.11563056121096140701',
        'density2': '0.28269763168554412006',
    },
    ('weibull-uniform0.3', '2', '7'): {
        'lower0': '0.99999999999999089589',
        'upper0': '9.1041050074987695218e-15',
        'density0': '7.7899175577232440306e-14',
        'lower1': '0.88622692545270737918',
        'upper1': '5.0634464125201086199e-14',
        'density1': '4.2646025696009680897e-13',
        'lower2': '0.99999999999971824878',
        'upper2': '2.8175121952781231059e-13',
        'density2': '2.3352740483429836531e-12',
    },
    ('exp-uniform1', '1', '0.01'): {
        'lower0': '0.028617998100239901894',
        'upper0': '0.97138200189976009811',
        'density0': '2.3630477292922215247',
        'lower1': '0.0049875208073176866474',
        'upper1': '0.99501247919268231335',
        'density1': '0.49750623959634115668',
        'lower2': '0.0049999792186719617281',
        'upper2': '1.9950000207813280383',
        'density2': '0.49999377079432286246',
    },
    ('exp-uniform1', '1', '0.5'): {
        'lower0': '0.48226987553952968039',
        'upper0': '0.51773012446047031961',
        'density0': '0.52214131722186909727',
        'lower1': '0.22119921692859513175',
        'upper1': '0.77880078307140486825',
        'density1': '0.38940039153570243412',
        'lower2': '0.24769823808933904645',
        'upper2': '1.7523017619106609536',
        'density2': '0.48675048941962804265',
    },
    ('exp-uniform1', '1', '2'): {
        'lower0': '0.85150449322407795208',
        'upper0': '0.14849550677592204792',
        'density0': '0.10969196719776013684',
        'lower1': '0.6321205588285576784',
        'upper1': '0.3678794411714423216',
        'density1': '0.1839397205857211608',
        'lower2': '0.89636167648567303521',
        'upper2': '1.1036383235143269648',
        'density2': '0.3678794411714423216',
    },
    ('exp-uniform1', '1', '7'): {
        'lower0': '0.99419810607910087448',
        'upper0': '0.0058018939208991255223',
        'density0': '0.0034850699287741964596',
        'lower1': '0.96980261657768149926',
        'upper1': '0.03019738342231850074',
        'density1': '0.01509869171115925037',
        'lower2': '1.8339143911772482459',
        'upper2': '0.16608560882275175407',
        'density2': '0.067944112700216626665',
    },
    ('weibull-lognormal-median', '0.5', '0.01'): {
        'lower0': '0.096797631451184018222',
        'upper0': '0.90320236854881598178',
        'density0': '4.5881795044025583473',
        'lower1': '0.00036623746323330111262',
        'upper1': '1.9996337625367666989',
        'density1': '0.053370829828097614374',
        'lower2': '2.9733423287418613886e-6',
        'upper2': '23.999997026657671258',
        'density2': '0.0007280106224761874486',
    },
    ('weibull-lognormal-median', '0.5', '0.5'): {
        'lower0': '0.5088849808317327966',
        'upper0': '0.4911150191682672034',
        'density0': '0.34429895797176772832',
        'lower1': '0.078233089272992480654',
        'upper1': '1.9217669107270075193',
        'density1': '0.19013473518153103921',
        'lower2': '0.028497979544473722062',
        'upper2': '23.971502020455526278',
        'density2': '0.12261743710336656777',
    },
    ('weibull-lognormal-median', '0.5', '2'): {
        'lower0': '0.75405686652669390887',
        'upper0': '0.24594313347330609113',
        'density0': '0.083909983421363416816',
        'lower1': '0.36111200841166324878',
        'upper1': '1.6388879915883367512',
        'density1': '0.17505693484414396676',
        'lower2': '0.4621533217604691488',
        'upper2': '23.537846678239530851',
        'density2': '0.42465005717647825401',
    },
    ('weibull-lognormal-median', '0.5', '7'): {
        'lower0': '0.9230811831025652463',
        'upper0': '0.076918816897434753699',
        'density0': '0.01342490698697995762',
        'lower1': '0.99402978856462417068',
        'upper1': '1.0059702114353758293',
        'density1': '0.089371251524131573057',
        'lower2': '3.5155802242538555752',
        'upper2': '20.484419775746144425',
        'density2': '0.68731162971943552525',
    },
    ('weibull-lognormal-mean', '2', '0.01'): {
        'lower0': '0.0001615826798540441103',
        'upper0': '0.99983841732014595589',
        'density0': '0.03231158485687088999',
        'lower1': '1.7406901812268058479e-6',
        'upper1': '0.88622518476257678684',
        'density1': '0.0005221189193470677944',
        'lower2': '2.4755569689660347468e-8',
        'upper2': '0.99999997524443031034',
        'density2': '9.9003101818884441587e-6',
    },
    ('weibull-lognormal-mean', '2', '0.5'): {
        'lower0': '0.29632021090882546853',
        'upper0': '0.70367978909117453147',
        'density0': '0.87807430917178873142',
        'lower1': '0.13367819854380279711',
        'upper1': '0.75254872690895521654',
        'density1': '0.59104759570117770892',
        'lower2': '0.076801633615878285675',
        'upper2': '0.92319836638412171433',
        'density2': '0.44662751821358489866',
    },
    ('weibull-lognormal-mean', '2', '2'): {
        'lower0': '0.94306531715710536542',
        'upper0': '0.056934682842894634581',
        'density0': '0.10036238845376396801',
        'lower1': '0.79445678030077416837',
        'upper1': '0.091770145151983845274',
        'density1': '0.14780430131731181459',
        'lower2': '0.84270292870334139741',
        'upper2': '0.15729707129665860259',
        'density2': '0.23174769441622177075',
    },
    ('weibull-lognormal-mean', '2', '7'): {
        'lower0': '0.99996248316212247044',
        'upper0': '0.000037516837877529563809',
        'density0': '0.000045209728437769501691',
        'lower1': '0.88614279833342201216',
        'upper1': '0.000084127119336001490388',
        'density1': '0.00009871878061184793594',
        'lower2': '0.99980424911259027718',
        'upper2': '0.00019575088740972281973',
        'density2': '0.00022387148812788136846',
    },
    ('exp-loguniform', '1', '0.01'): {
        'lower0': '0.010752900872448927217',
        'upper0': '0.98924709912755107278',
        'density0': '1.0685902144159318059',
        'lower1': '0.000066998728289609158336',
        'upper1': '0.99993300127171039084',
        'density1': '0.013337341688813695796',
        'lower2': '6.2403969108135871558e-7',
        'upper2': '1.9999993759603089186',
        'density2': '0.00018650253800784565782',
    },
    ('exp-loguniform', '1', '0.5'): {
        'lower0': '0.40496136810234174281',
        'upper0': '0.59503863189765825719',
        'density0': '0.59283418215451417849',
        'lower1': '0.10854427702508465356',
        'upper1': '0.89145572297491534644',
        'density1': '0.34298934362586048171',
        'lower2': '0.04559388223723906627',
        'upper2': '1.9544061177627609337',
        'density2': '0.22546409355227529783',
    },
    ('exp-loguniform', '1', '2'): {
        'lower0': '0.84447416938816699181',
        'upper0': '0.15552583061183300819',
        'density0': '0.1260784910068882855',
        'lower1': '0.59231718737439042082',
        'upper1': '0.40768281262560957918',
        'density1': '0.23233907096715918609',
        'lower2': '0.71995623281446246946',
        'upper2': '1.2800437671855375305',
        'density2': '0.49166707770811973314',
    },
    ('exp-loguniform', '1', '7'): {
        'lower0': '0.99497214704414823118',
        'upper0': '0.0050278529558517688186',
        'density0': '0.0031117439763458634078',
        'lower1': '0.97318993920972718733',
        'upper1': '0.026810060790272812673',
        'density1': '0.014001948161786829733',
        'lower2': '1.8483662412869465665',
        'upper2': '0.15163375871305343348',
        'density2': '0.066107014727843263177',
    },
    ('weibull-banduniform', '2', '0.01'): {
        'lower0': '0.000099991250710365879276',
        'upper0': '0.99990000874928963412',
        'density0': '0.01999650042620937072',
        'lower1': '8.3322709348879327365e-7',
        'upper1': '0.88622609222566452486',
        'density1': '0.00024994688210866395662',
        'lower2': '8.7485793190256773872e-9',
        'upper2': '0.99999999125142068097',
        'density2': '3.4991476218846805358e-6',
    },
    ('weibull-banduniform', '2', '0.5'): {
        'lower0': '0.20469989372729385109',
        'upper0': '0.79530010627270614891',
        'density0': '0.6692483275095615841',
        'lower1': '0.077575805302865441296',
        'upper1': '0.80865112014989257235',
        'density1': '0.38102241442802230968',
        'lower2': '0.037387811849903455065',
        'upper2': '0.96261218815009654494',
        'density2': '0.24594004677606520867',
    },
    ('weibull-banduniform', '2', '2'): {
        'lower0': '0.88123485988884693195',
        'upper0': '0.11876514011115306805',
        'density0': '0.1858703719695225605',
        'lower1': '0.70035653982004638528',
        'upper1': '0.18587038563271162837',
        'density1': '0.24525288575751173489',
        'lower2': '0.69536448791932437146',
        'upper2': '0.30463551208067562854',
        'density2': '0.33818784667192357662',
    },
    ('weibull-banduniform', '2', '7'): {
        'lower0': '0.99999976634547823273',
        'upper0': '2.3365452176727468695e-7',
        'density0': '8.7807171443877201417e-7',
        'lower1': '0.88622604738104357488',
        'upper1': '8.7807171443877201417e-7',
        'density1': '3.1900782614193393931e-6',
        'lower2': '0.99999669309447769702',
        'upper2': '3.3069055223029767365e-6',
        'density2': '0.000011604309772187073883',
    },
}


# --------------------------------------------------------------------------- helpers


class LocalPareto(SizeDistribution):
    """Pareto(shape a, scale 1), test-local: E[X^k] = inf for k >= a."""

    def __init__(self, a: float) -> None:
        self.a = float(a)

    def _params(self):
        return {"a": self.a}

    def _support(self):
        return (1.0, math.inf)

    def _pdf(self, x):
        return self.a * x ** (-self.a - 1)

    def _sf(self, x):
        return np.where(x <= 1, 1.0, np.maximum(x, 1.0) ** -self.a)

    def _cdf(self, x):
        return 1.0 - self._sf(x)

    def _ppf(self, q):
        return (1.0 - q) ** (-1 / self.a)

    def _moment(self, k):
        return math.inf if k >= self.a else self.a / (self.a - k)

    def _partial_moment(self, k, x, strict):
        x = np.maximum(np.asarray(x, float), 1.0)
        if k == self.a:
            return self.a * np.log(x)
        return self.a / (self.a - k) * (1.0 - x ** (k - self.a))


class LocalAtoms(SizeDistribution):
    """Finitely many sizes (test-local)."""

    def __init__(self, values, probs) -> None:
        self.v = np.asarray(values, float)
        self.p = np.asarray(probs, float)

    def _params(self):
        return {"v": self.v.tolist(), "p": self.p.tolist()}

    def _atoms(self):
        return self.v, self.p

    def _support(self):
        return (float(self.v[0]), float(self.v[-1]))

    def _sample(self, rng, size):
        return rng.choice(self.v, size=size, p=self.p)


class PlainExponentialChannel(PredictionModel):
    """Y | X = x ~ Exp(mean x) as a plain (non-multiplicative) channel: the generic JointLaw."""

    name = "plain-exponential"

    def _sample(self, rng, x):
        return rng.exponential(1.0, x.shape) * x

    def _cond_cdf(self, y, x):
        return np.where(y > 0, -np.expm1(-np.maximum(y, 0.0) / x), 0.0)

    def _cond_sf(self, y, x):
        return np.where(y > 0, np.exp(-np.maximum(y, 0.0) / x), 1.0)

    def _cond_pdf(self, y, x):
        return np.where(y >= 0, np.exp(-np.maximum(y, 0.0) / x) / x, 0.0)

    def _x_kinks(self, y):
        return np.array([y / 10, y, 10 * y])


def joint_for(name: str, shape: str):
    size = {"0.5": LocalWeibull(0.5), "2": LocalWeibull(2.0), "1": qt.Exponential(1.0)}[shape]
    pred = {
        "weibull-exp": qt.ExponentialPrediction(),
        "weibull-uniform0.3": qt.UniformPrediction(0.3),
        "exp-uniform1": qt.UniformPrediction(1.0),
        "weibull-lognormal-median": qt.LognormalPrediction(0.4),
        "weibull-lognormal-mean": qt.LognormalPrediction(0.4, convention="mean"),
        "exp-loguniform": qt.BoundedMultiplicativePrediction(0.5, 2.0, law="loguniform"),
        "weibull-banduniform": qt.BoundedMultiplicativePrediction(0.5, 2.0),
    }[name]
    return pred.joint(size)


def check_quantities(joint, y: float, ref: dict, rtol: float) -> None:
    got = {}
    for k in (0, 1, 2):
        got[f"lower{k}"] = joint.partial_moment_y(k, y)
        got[f"upper{k}"] = joint.tail_moment_y(k, y)
        got[f"density{k}"] = joint.moment_density_y(k, y)
    got["cdf"] = joint.cdf_y(y)
    got["sf"] = joint.sf_y(y)
    got["pdf"] = joint.pdf_y(y)
    for key, val in ref.items():
        expected = float(val)
        assert got[key] == pytest.approx(expected, rel=rtol, abs=0), key
    assert got["cdf"] == pytest.approx(float(ref["lower0"]), rel=rtol)
    assert got["sf"] == pytest.approx(float(ref["upper0"]), rel=rtol)
    assert got["pdf"] == pytest.approx(float(ref["density0"]), rel=rtol)


EXP_KEYS = [k for k in REFERENCE if k[0] == "exp"]
GEN_KEYS = [k for k in REFERENCE if isinstance(k, tuple) and k[0] != "exp"]


# ------------------------------------------------------ §9 Bessel closed forms
@pytest.mark.parametrize("key", EXP_KEYS, ids=lambda k: f"m={k[1]},y={k[2]}")
def test_exponential_closed_forms_vs_mpmath(key):
    _, m, y = key
    joint = qt.ExponentialPrediction().joint(qt.Exponential(float(m)))
    assert isinstance(joint, ExponentialExponentialJoint)
    check_quantities(joint, float(y), REFERENCE[key], rtol=1e-12)
    # rho'(y) and M2'(y) through the workload, the table of formulas.md §9
    lam = 0.3 / float(m)
    w = qt.Workload(lam, qt.Exponential(float(m)), qt.ExponentialPrediction())
    assert w.load_predicted_below(float(y)) == pytest.approx(
        lam * float(REFERENCE[key]["lower1"]), rel=1e-12)


@pytest.mark.parametrize("key", [k for k in EXP_KEYS if k[1] == "1"],
                         ids=lambda k: f"y={k[2]}")
def test_generic_paths_reproduce_bessel_values(key):
    """The multiplicative quadrature and the plain generic JointLaw, same model."""
    y = float(key[2])
    size = qt.Exponential(1.0)
    check_quantities(MultiplicativeJoint(size, qt.ExponentialPrediction()), y, REFERENCE[key],
                     rtol=1e-10)
    if y >= 1e-3:  # the plain generic path has no special handling of y -> 0
        check_quantities(JointLaw(size, PlainExponentialChannel()), y, REFERENCE[key],
                         rtol=1e-10)


def test_bessel_b_vs_mpmath_grid():
    """B_nu(t) and (nu-1)! - B_nu(t), both sides of the series/closed-form switch at t = 1/4."""
    t = np.concatenate([np.geomspace(1e-14, 3e3, 9), [0.2499, 0.2501]])
    with mp.workdps(40):
        for nu in (0, 1, 2, 3, 6):
            got = bessel_b(nu, t)
            got_c = bessel_b(nu, t, complement=True) if nu else None
            for i, ti in enumerate(t):
                tm = mp.mpf(float(ti))
                exact = 2 * tm ** (mp.mpf(nu) / 2) * mp.besselk(nu, 2 * mp.sqrt(tm))
                assert abs(got[i] / exact - 1) < 5e-14, (nu, ti)
                if nu:
                    comp = mp.factorial(nu - 1) - exact
                    assert abs(got_c[i] / comp - 1) < 5e-14, (nu, ti)
    assert bessel_b(0, 0.0) == math.inf
    assert bessel_b(3, 0.0) == 2.0
    assert bessel_b(2, 0.0, complement=True) == 0.0


def test_closed_form_matches_quadrature_wide_range():
    for m in (0.2, 3.0):
        size = qt.Exponential(m)
        closed = qt.ExponentialPrediction().joint(size)
        quad = MultiplicativeJoint(size, qt.ExponentialPrediction())
        y = m * np.geomspace(1e-9, 60, 40)
        for k in (0, 1, 2, 3):
            np.testing.assert_allclose(closed.partial_moment_y(k, y),
                                       quad.partial_moment_y(k, y), rtol=1e-10)
            np.testing.assert_allclose(closed.tail_moment_y(k, y),
                                       quad.tail_moment_y(k, y), rtol=1e-10)
            np.testing.assert_allclose(closed.moment_density_y(k, y),
                                       quad.moment_density_y(k, y), rtol=1e-10)


def test_exponential_limits_and_non_integer_k():
    j = qt.ExponentialPrediction().joint(qt.Exponential(2.0))
    assert j.pdf_y(0.0) == math.inf
    assert j.moment_density_y(1, 0.0) == 1.0  # Gamma(1) m^0
    assert j.moment_density_y(2, 0.0) == 2.0  # Gamma(2) m
    assert j.partial_moment_y(1, 0.0) == 0.0
    assert j.partial_moment_y(2, math.inf) == 8.0
    assert j.sf_y(-1.0) == 1.0 and j.pdf_y(-1.0) == 0.0
    assert j.tail_moment_y(1, 1e6) == 0.0
    # k = 1.5 uses quadrature: E[X^1.5] = Gamma(2.5) m^1.5
    total = math.gamma(2.5) * 2.0**1.5
    assert j.partial_moment_y(1.5, 3.0) + j.tail_moment_y(1.5, 3.0) == pytest.approx(
        total, rel=1e-11)
    with mp.workdps(30):
        exact = mp.quad(lambda x: x**1.5 * mp.exp(-x / 2) / 2 * mp.exp(-3 / x),
                        [0, 1, 3, mp.inf])
    assert j.tail_moment_y(1.5, 3.0) == pytest.approx(float(exact), rel=1e-10)


def test_sprpt_old_job_term_via_expect():
    """E[((S - Y + y)^+)^2 1(Y > y)] = (1 - 2/e) B_3(y) (formulas.md §9), by expect()."""
    j = qt.ExponentialPrediction().joint(qt.Exponential(1.0))
    for y0, ref in REFERENCE["sprpt_old_job"].items():
        y0 = float(y0)
        est = j.expect(lambda x, y, y0=y0: np.where(y > y0, np.maximum(x - y + y0, 0.0) ** 2,
                                                     0.0),
                       y_points=lambda x, y0=y0: [np.full_like(x, y0), x + y0], rtol=1e-10)
        assert abs(est.value - float(ref)) <= max(est.error, 1e-15)
        assert est.value == pytest.approx(float(ref), rel=1e-9)
        assert est.value == pytest.approx((1 - 2 / math.e) * bessel_b(3, y0), rel=1e-9)


# --------------------------------------------------- generic quadrature laws
@pytest.mark.parametrize("key", GEN_KEYS, ids=lambda k: f"{k[0]}[{k[1]}],y={k[2]}")
def test_quadrature_joint_laws_vs_mpmath(key):
    name, shape, y = key
    check_quantities(joint_for(name, shape), float(y), REFERENCE[key], rtol=1e-10)


@pytest.mark.parametrize("key", [k for k in GEN_KEYS if k[0] == "weibull-exp"],
                         ids=lambda k: f"shape={k[1]},y={k[2]}")
def test_plain_generic_joint_law_vs_mpmath(key):
    _, shape, y = key
    size = LocalWeibull(float(shape))
    check_quantities(JointLaw(size, PlainExponentialChannel()), float(y), REFERENCE[key],
                     rtol=1e-10)


def test_heavy_tailed_sizes():
    """Pareto(1.5): E[X^2] = inf. M2'(y) is finite, E[X^2 1(Y > y)] = inf."""
    size = LocalPareto(1.5)
    y = 3.0
    with mp.workdps(30):
        f = lambda x: 1.5 * x ** mp.mpf(-2.5)  # noqa: E731
        m2 = mp.quad(lambda x: x**2 * f(x) * -mp.expm1(-y / x), [1, 3, 30, mp.inf])
        m1 = mp.quad(lambda x: x * f(x) * -mp.expm1(-y / x), [1, 3, 30, mp.inf])
        band = mp.quad(lambda x: x**2 * f(x) * (y / x - 0.5), [2, 6])  # U(0.5): R in [.5, 1.5]
        m2u = mp.quad(lambda x: x**2 * f(x), [1, 2]) + band
    j = qt.ExponentialPrediction().joint(size)
    assert j.partial_moment_y(2, y) == pytest.approx(float(m2), rel=1e-10)
    assert j.partial_moment_y(1, y) == pytest.approx(float(m1), rel=1e-10)
    assert j.tail_moment_y(1, y) == pytest.approx(3.0 - float(m1), rel=1e-10)
    ju = qt.UniformPrediction(0.5).joint(size)
    assert ju.partial_moment_y(2, y) == pytest.approx(float(m2u), rel=1e-10)
    for joint in (j, ju, qt.PerfectPrediction().joint(size),
                  qt.BoundedMultiplicativePrediction(0.5, 2.0, law="endpoints").joint(size)):
        assert joint.tail_moment_y(2, y) == math.inf
        assert joint.tail_moment_y(2, -1.0) == math.inf
    # all predictions 0: Y = 0, so E[X^2 1(Y > y)] = 0 for y >= 0 and M2'(y) = inf
    zero = qt.EmpiricalPredictions([1.0, 2.0], [0.0, 0.0], mode="ratio").joint(size)
    assert zero.tail_moment_y(2, 1.0) == 0.0 and zero.partial_moment_y(2, 1.0) == math.inf


def test_arrays_equal_scalars_and_shape():
    j = qt.UniformPrediction(0.3).joint(LocalWeibull(2.0))
    y = np.array([[0.01, 0.5], [2.0, 7.0]])
    arr = j.partial_moment_y(1, y)
    assert arr.shape == (2, 2)
    for idx in np.ndindex(2, 2):
        assert arr[idx] == pytest.approx(j.partial_moment_y(1, float(y[idx])), rel=1e-12)
    both = j.partial_moments_y([0, 2], y)
    assert both.shape == (2, 2, 2)
    np.testing.assert_allclose(both[1], j.partial_moment_y(2, y), rtol=1e-12)
    assert isinstance(j.cdf_y(1.0), float)


def test_expect_product_moment_all_models():
    """E[X Y] = E[X^2] E[R] for multiplicative errors, X ~ Exp(1) (E[X^2] = 2)."""
    s = 0.4
    cases = [
        (qt.ExponentialPrediction(), 1.0),
        (qt.UniformPrediction(0.3), 1.0),
        (qt.LognormalPrediction(s), math.exp(s * s / 2)),
        (qt.LognormalPrediction(s, convention="mean"), 1.0),
        (qt.BoundedMultiplicativePrediction(0.5, 2.0), 1.25),
        (qt.BoundedMultiplicativePrediction(0.5, 2.0, law="loguniform"), 1.5 / math.log(4)),
        (qt.BoundedMultiplicativePrediction(0.5, 2.0, law="endpoints", p=0.3), 0.35 + 0.6),
        (qt.PerfectPrediction(), 1.0),
    ]
    for pred, mean_r in cases:
        est = pred.joint(qt.Exponential(1.0)).expect(lambda x, y: x * y)
        assert est.value == pytest.approx(2 * mean_r, rel=1e-9), pred
        assert abs(est.value - 2 * mean_r) <= est.error + 1e-12, pred
    est = JointLaw(LocalWeibull(2.0), PlainExponentialChannel()).expect(lambda x, y: x * y)
    assert est.value == pytest.approx(1.0, rel=1e-9)  # E[X^2] = Gamma(2) = 1


def test_density_integrates_to_load():
    """∫_0^y m_1(t) dt = E[X 1(Y <= y)] (uniform, kinks inside)."""
    j = qt.UniformPrediction(0.5).joint(qt.Exponential(1.0))
    est = qt.integrate.quad(lambda t: j.moment_density_y(1, t), 0.0, 2.0,
                            points=[2 / 3, 1.0, 2.0], rtol=1e-11)
    assert est.value == pytest.approx(j.partial_moment_y(1, 2.0), rel=1e-10)


# ------------------------------------------------------------- atoms, strict
def brute(pairs_x, pairs_y, weights, k, y, strict=False, upper=False):
    if upper:
        mask = pairs_y >= y if strict else pairs_y > y
    else:
        mask = pairs_y < y if strict else pairs_y <= y
    return float(np.sum(weights * pairs_x**k * mask))


def test_endpoints_with_atomic_sizes_strict_and_atoms():
    size = LocalAtoms([1.0, 2.0, 4.0], [0.5, 0.3, 0.2])
    pred = qt.BoundedMultiplicativePrediction(0.5, 2.0, law="endpoints", p=0.25)
    j = pred.joint(size)
    xs, ps = np.meshgrid(size.v, [0.5, 2.0], indexing="ij")
    ws = np.outer(size.p, [0.75, 0.25])
    X, Y, W = xs.ravel(), (xs * ps).ravel(), ws.ravel()
    for y in [0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 8.0, 9.0]:
        for k in (0, 1, 2):
            for strict in (False, True):
                assert j.partial_moment_y(k, y, strict=strict) == pytest.approx(
                    brute(X, Y, W, k, y, strict), abs=1e-15)
                assert j.tail_moment_y(k, y, strict=strict) == pytest.approx(
                    brute(X, Y, W, k, y, strict, upper=True), abs=1e-15)
    vals, probs = j.atoms_y
    np.testing.assert_allclose(vals, [0.5, 1.0, 2.0, 4.0, 8.0])
    np.testing.assert_allclose(probs, [0.375, 0.225, 0.15 + 0.125, 0.075, 0.05])
    assert j.has_atoms_y and not j.has_density_y
    assert j.pdf_y(2.0) == 0.0
    est = j.expect(lambda x, y: x * y**2)
    assert est.value == pytest.approx(float(np.sum(W * X * Y**2)), rel=1e-14)


def test_endpoints_with_continuous_sizes():
    pred = qt.BoundedMultiplicativePrediction(0.5, 2.0, law="endpoints", p=0.25)
    size = qt.Exponential(1.0)
    j = pred.joint(size)
    for y in (0.1, 1.0, 5.0):
        expected = 0.75 * size.partial_moment(1, y / 0.5) + 0.25 * size.partial_moment(1, y / 2)
        assert j.partial_moment_y(1, y) == pytest.approx(expected, rel=1e-14)
        dens = 0.75 * size.pdf(y / 0.5) / 0.5 + 0.25 * size.pdf(y / 2) / 2
        assert j.pdf_y(y) == pytest.approx(dens, rel=1e-14)
    assert not j.has_atoms_y and j.has_density_y


def test_uniform_with_atomic_sizes_and_continuous_channel():
    size = LocalAtoms([1.0, 3.0], [0.4, 0.6])
    j = qt.UniformPrediction(0.5).joint(size)
    # P(Y <= y) = sum_i p_i clip((y/x_i - 0.5)/1, 0, 1)
    for y in (0.3, 0.9, 1.2, 2.0, 4.0):
        cdf = sum(p * min(max(y / x - 0.5, 0.0), 1.0) for x, p in zip(size.v, size.p))
        assert j.cdf_y(y) == pytest.approx(cdf, abs=1e-15)
        pdf = sum(p / x * (0.5 < y / x < 1.5) for x, p in zip(size.v, size.p))
        assert j.pdf_y(y) == pytest.approx(pdf, abs=1e-15)


def test_continuous_channels_with_atomic_sizes_brute_force():
    """Atoms of X (including one at 0, so Y = 0) with continuous ratio laws: exact sums."""
    v = np.array([0.0, 0.5, 1.0, 2.0, 2.5])
    p = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    size = qt.Discrete(v, p)
    laws = {  # P(Y <= y | X = x) for x > 0, written from the definitions
        "uniform": (qt.UniformPrediction(0.5),
                    lambda y, x: np.clip((y / x - 0.5) / 1.0, 0, 1)),
        "uniform1": (qt.UniformPrediction(1.0), lambda y, x: np.clip(y / (2 * x), 0, 1)),
        "exponential": (qt.ExponentialPrediction(), lambda y, x: -np.expm1(-y / x)),
        "lognormal": (qt.LognormalPrediction(0.3, convention="mean"),
                      lambda y, x: special.ndtr((np.log(y / x) + 0.045) / 0.3)),
        "loguniform": (qt.BoundedMultiplicativePrediction(0.5, 2.0, law="loguniform"),
                       lambda y, x: np.clip(np.log(y / (0.5 * x)) / np.log(4.0), 0, 1)),
    }
    for name, (pred, cdf) in laws.items():
        j = pred.joint(size)
        for y in (0.0, 0.2, 0.7, 1.5, 2.5, 6.0):
            with np.errstate(divide="ignore"):
                c = np.concatenate([[1.0], cdf(y, v[1:])]) if y > 0 else np.array(
                    [1.0, 0, 0, 0, 0])
            for strict in (False, True):
                cs = c.copy()
                if strict and y == 0:
                    cs[0] = 0.0  # P(Y < 0) = 0
                for k in (0, 1, 2):
                    lo = float(np.sum(p * v**k * cs))
                    up = float(np.sum(p * v**k * (1 - cs)))
                    assert j.partial_moment_y(k, y, strict=strict) == pytest.approx(
                        lo, rel=1e-12, abs=1e-15), (name, y, k, strict)
                    assert j.tail_moment_y(k, y, strict=strict) == pytest.approx(
                        up, rel=1e-12, abs=1e-15), (name, y, k, strict)
        vals, probs = j.atoms_y
        assert vals.tolist() == [0.0] and probs.tolist() == pytest.approx([0.1])


def test_affine_band_sums_equal_direct_atom_sums():
    """The O(A) prefix-sum path (uniform / loguniform ratios) equals the direct n x A sums."""
    rng = np.random.default_rng(3)
    size = qt.Empirical(np.round(rng.exponential(1.0, 3000), 3) + 0.001)
    y = np.concatenate([np.linspace(0.0, 8.0, 60), size.atoms[0][::97] * 1.5, [1e5]])
    for pred in (qt.UniformPrediction(0.4), qt.UniformPrediction(1.0),
                 qt.BoundedMultiplicativePrediction(0.5, 2.0),
                 qt.BoundedMultiplicativePrediction(0.5, 2.0, law="loguniform")):
        fast = pred.joint(size)
        slow = MultiplicativeJoint(size, pred)
        slow._band_atoms_affine = lambda kv, yy, which: None  # force the direct sums
        for k in (0, 1, 2):
            for fn in ("partial_moment_y", "tail_moment_y", "moment_density_y"):
                np.testing.assert_allclose(getattr(fast, fn)(k, y), getattr(slow, fn)(k, y),
                                           rtol=1e-12, atol=1e-15, err_msg=f"{pred} {fn} {k}")


# ----------------------------------------------------------------- empirical
@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(7)
    x = np.round(rng.exponential(1.0, 300), 2) + 0.01  # ties in x
    y = np.round(x * rng.lognormal(0.0, 0.5, x.size), 1)  # ties in y, some zeros
    return x, y


def test_empirical_joint_exact_sums(pairs):
    x, y = pairs
    preds = qt.EmpiricalPredictions(x, y)
    j = preds.joint(preds.size_distribution)
    w = np.full(x.size, 1 / x.size)
    queries = np.concatenate([np.unique(y)[:40], [-1.0, 0.0, 0.05, 1e9, np.inf]])
    for k in (0, 1, 2):
        for strict in (False, True):
            got = j.partial_moment_y(k, queries, strict=strict)
            exp = [brute(x, y, w, k, q, strict) for q in queries]
            np.testing.assert_allclose(got, exp, rtol=1e-13, atol=1e-15)
            got = j.tail_moment_y(k, queries, strict=strict)
            exp = [brute(x, y, w, k, q, strict, upper=True) for q in queries]
            np.testing.assert_allclose(got, exp, rtol=1e-13, atol=1e-15)
    assert np.all(np.diff(j.y) >= 0) and j.w.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(np.sort(j.x * 0 + j.y), np.sort(y))
    assert j.pdf_y(1.0) == 0.0 and not j.has_density_y
    vals, probs = j.atoms_y
    np.testing.assert_array_equal(vals, np.unique(y))
    assert probs.sum() == pytest.approx(1.0)
    est = j.expect(lambda a, b: a * b)
    assert est.value == pytest.approx(float(np.mean(x * y)), rel=1e-13) and est.error == 0.0
    wl = preds.workload(0.5)
    assert wl.load_predicted_below(1.0) == pytest.approx(0.5 * brute(x, y, w, 1, 1.0),
                                                         rel=1e-13)


def test_empirical_ratio_mode(pairs):
    x, y = pairs
    preds = qt.EmpiricalPredictions(x, y, mode="ratio")
    r = y / x
    size = qt.Exponential(1.5)
    j = preds.joint(size)
    for q in (0.0, 0.3, 1.0, 4.0):
        for k in (0, 1, 2):
            exp = np.mean([size.partial_moment(k, q / ri) if ri > 0 else
                           size_moment(size, k) for ri in r])
            assert j.partial_moment_y(k, q) == pytest.approx(exp, rel=1e-12, abs=1e-15)
        dens = np.mean([size.pdf(q / ri) / ri if ri > 0 else 0.0 for ri in r])
        if q > 0:
            assert j.pdf_y(q) == pytest.approx(dens, rel=1e-12)
    # atomic sizes: brute-force enumeration of all (size atom, ratio) products
    atoms = LocalAtoms([0.5, 1.0, 2.0], [0.2, 0.3, 0.5])
    ja = preds.joint(atoms)
    X = np.repeat(atoms.v, r.size)
    Y = X * np.tile(r, atoms.v.size)
    W = np.repeat(atoms.p, r.size) / r.size
    for q in (0.0, 0.2, 0.5, 1.0, 3.0):
        for strict in (False, True):
            assert ja.partial_moment_y(1, q, strict=strict) == pytest.approx(
                brute(X, Y, W, 1, q, strict), rel=1e-12, abs=1e-15)
            assert ja.tail_moment_y(2, q, strict=strict) == pytest.approx(
                brute(X, Y, W, 2, q, strict, upper=True), rel=1e-12, abs=1e-15)


def size_moment(size, k):
    return 1.0 if k == 0 else size.moment(k)


def test_empirical_check_size_and_workload(pairs):
    x, y = pairs
    preds = qt.EmpiricalPredictions(x, y)
    with pytest.raises(ParameterError, match="preds.size_distribution"):
        qt.Workload(0.5, qt.Exponential(1.0), preds)
    with pytest.raises(ParameterError, match="preds.workload"):
        preds.joint(qt.Empirical(x[:-1]))
    w = preds.workload(0.5)
    assert isinstance(w.joint, qt.EmpiricalJoint)
    assert w.size.mean() == pytest.approx(x.mean(), rel=1e-14)
    # an atom-for-atom identical law of another class is accepted (values are compared)
    u, c = np.unique(x, return_counts=True)
    qt.Workload(0.5, qt.Discrete(u, c / x.size), preds)
    # ratio mode works with any size law
    qt.Workload(0.5, qt.Exponential(1.0), qt.EmpiricalPredictions(x, y, mode="ratio"))


def test_empirical_conditional_law_and_sampling(pairs):
    x, y = pairs
    preds = qt.EmpiricalPredictions(x, y)
    x0 = x[0]
    group = y[x == x0]
    for q in (group.min(), np.median(group), group.max(), group.max() + 1):
        assert preds.conditional_cdf(q, x0) == pytest.approx(np.mean(group <= q))
        assert preds.conditional_cdf(q, x0, strict=True) == pytest.approx(np.mean(group < q))
    draws = preds.sample(3, np.full(2000, x0))
    assert set(draws.tolist()) <= set(group.tolist())
    with pytest.raises(ParameterError, match="actual size"):
        preds.sample(0, [x0 + 1e-7])
    j = preds.workload(0.5).joint
    sx, sy = j.sample(11, 5000)
    pair_set = set(zip(x.tolist(), y.tolist()))
    assert all((a, b) in pair_set for a, b in zip(sx[:500].tolist(), sy[:500].tolist()))
    sx2, sy2 = j.sample(11, 5000)
    np.testing.assert_array_equal(sx, sx2)
    np.testing.assert_array_equal(sy, sy2)


@pytest.mark.parametrize("args, match", [
    (([1.0, 2.0], [1.0]), "same length"),
    (([], []), "at least 1 pair"),
    (([1.0, 0.0], [1.0, 1.0]), "actual sizes must be > 0"),
    (([1.0, 2.0], [1.0, -1.0]), "predicted sizes must be >= 0"),
    (([1.0, np.inf], [1.0, 1.0]), "actual must contain only finite"),
    (([1.0, 2.0], [np.nan, 1.0]), "predicted must contain only finite"),
    (([[1.0, 2.0]], [[1.0, 1.0]]), "actual must be 1-D"),
])
def test_empirical_validation(args, match):
    with pytest.raises(ParameterError, match=match):
        qt.EmpiricalPredictions(*args)
    with pytest.raises(ParameterError, match="mode must be one of"):
        qt.EmpiricalPredictions([1.0], [1.0], mode="pairs")


# ------------------------------------------------------------------ sampling
@pytest.mark.parametrize("pred, mean_r, var_r", [
    (qt.ExponentialPrediction(), 1.0, 1.0),
    (qt.UniformPrediction(0.6), 1.0, 0.36 / 3),
    (qt.LognormalPrediction(0.5, convention="mean"), 1.0, math.exp(0.25) - 1),
    (qt.LognormalPrediction(0.5), math.exp(0.125), (math.exp(0.25) - 1) * math.exp(0.25)),
    (qt.BoundedMultiplicativePrediction(0.5, 2.0), 1.25, 1.5**2 / 12),
    (qt.BoundedMultiplicativePrediction(0.5, 2.0, law="loguniform"), 1.5 / math.log(4),
     (4 - 0.25) / (2 * math.log(4)) - (1.5 / math.log(4)) ** 2),
    (qt.BoundedMultiplicativePrediction(0.5, 2.0, law="endpoints", p=0.3), 0.95,
     0.3 * 0.7 * 1.5**2),
], ids=lambda v: repr(v) if isinstance(v, qt.PredictionModel) else "")
def test_sampling_moments_within_ci(pred, mean_r, var_r):
    n = 200_000
    size = qt.Exponential(2.0)
    x, y = pred.joint(size).sample(123, n)
    r = y / x
    z = 4.5  # two-sided, P(|Z| > 4.5) ~ 7e-6
    assert abs(r.mean() - mean_r) <= z * math.sqrt(var_r / n)
    # E[Y] = E[X] E[R]; Var(Y) = E[X^2] E[R^2] - E[X]^2 E[R]^2
    var_y = 8.0 * (var_r + mean_r**2) - 4.0 * mean_r**2
    assert abs(y.mean() - 2.0 * mean_r) <= z * math.sqrt(var_y / n)
    # the ratio is independent of the size
    assert abs(np.corrcoef(x, r)[0, 1]) <= z / math.sqrt(n)
    x2, y2 = pred.joint(size).sample(123, n)
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_array_equal(pred.sample(5, x[:10]), pred.sample(5, x[:10]))


def test_sampling_bounded_support_and_lognormal_median():
    x = np.full(100_000, 3.0)
    y = qt.UniformPrediction(0.2).sample(1, x)
    assert y.min() >= 2.4 and y.max() <= 3.6
    y = qt.BoundedMultiplicativePrediction(0.5, 2.0, law="loguniform").sample(1, x)
    assert y.min() >= 1.5 and y.max() <= 6.0
    # median convention: P(Y <= X) = 1/2; mean convention: P(Y <= X) = Phi(sigma/2)
    for conv, p in (("median", 0.5), ("mean", special.ndtr(0.25))):
        y = qt.LognormalPrediction(0.5, convention=conv).sample(2, x)
        assert abs(np.mean(y <= 3.0) - p) <= 4.5 * math.sqrt(p * (1 - p) / x.size)
    y = qt.BoundedMultiplicativePrediction(0.5, 2.0, law="endpoints", p=0.3).sample(2, x)
    assert set(np.unique(y).tolist()) == {1.5, 6.0}
    assert abs(np.mean(y == 6.0) - 0.3) <= 4.5 * math.sqrt(0.21 / x.size)


# ---------------------------------------------------------- perfect and errors
def test_perfect_special_cases():
    size = LocalWeibull(2.0)
    y = np.array([0.0, 0.3, 1.0, 2.5])
    for pred in (qt.PerfectPrediction(), qt.UniformPrediction(0.0),
                 qt.BoundedMultiplicativePrediction(1.0, 1.0)):
        assert pred.perfect
        j = pred.joint(size)
        assert isinstance(j, PerfectJoint)
        np.testing.assert_array_equal(j.partial_moment_y(1, y), size.partial_moment(1, y))
        np.testing.assert_array_equal(j.pdf_y(y), size.pdf(y))
        np.testing.assert_array_equal(pred.sample(0, y), y)
    atoms = LocalAtoms([1.0, 2.0], [0.5, 0.5])
    j = qt.UniformPrediction(0.0).joint(atoms)
    assert j.partial_moment_y(1, 2.0) == 1.5 and j.partial_moment_y(1, 2.0, strict=True) == 0.5
    assert j.tail_moment_y(1, 1.0) == 1.0 and j.tail_moment_y(1, 1.0, strict=True) == 1.5
    # a tiny alpha is close to perfect, within O(alpha)
    ju = qt.UniformPrediction(1e-6).joint(size)
    assert ju.partial_moment_y(1, 1.0) == pytest.approx(size.partial_moment(1, 1.0), rel=1e-5)
    assert not qt.UniformPrediction(1e-6).perfect


@pytest.mark.parametrize("make, match", [
    (lambda: qt.UniformPrediction(1.5), "alpha must lie in"),
    (lambda: qt.UniformPrediction(-0.1), "alpha must lie in"),
    (lambda: qt.UniformPrediction(float("nan")), "alpha must be finite"),
    (lambda: qt.LognormalPrediction(0.0), "sigma must be > 0"),
    (lambda: qt.LognormalPrediction(-1.0), "sigma must be > 0"),
    (lambda: qt.LognormalPrediction(0.5, convention="average"), "convention must be one of"),
    (lambda: qt.BoundedMultiplicativePrediction(2.0, 1.0), "beta must be <= alpha"),
    (lambda: qt.BoundedMultiplicativePrediction(0.0, 1.0), "beta must be > 0"),
    (lambda: qt.BoundedMultiplicativePrediction(0.5, math.inf), "alpha must be finite"),
    (lambda: qt.BoundedMultiplicativePrediction(0.5, 2.0, law="normal"), "law must be one of"),
    (lambda: qt.BoundedMultiplicativePrediction(0.5, 2.0, p=0.3), "p is only used"),
    (lambda: qt.BoundedMultiplicativePrediction(0.5, 2.0, law="endpoints", p=1.3),
     "p must lie in"),
])
def test_bad_parameters_name_the_parameter(make, match):
    with pytest.raises(ParameterError, match=match):
        make()


def test_bad_query_arguments():
    j = qt.UniformPrediction(0.5).joint(qt.Exponential(1.0))
    with pytest.raises(ParameterError, match="y must not contain NaN"):
        j.cdf_y([1.0, np.nan])
    with pytest.raises(ParameterError, match="k must be"):
        j.partial_moment_y(-1, 1.0)
    with pytest.raises(ParameterError, match="k must be"):
        j.partial_moment_y(True, 1.0)


def test_names_and_registry():
    from queuetheory.predictions import PREDICTION_MODELS

    assert set(PREDICTION_MODELS) == {"perfect", "exponential", "uniform", "lognormal",
                                      "bounded", "empirical"}
    assert repr(qt.LognormalPrediction(0.5, convention="mean")) == (
        "LognormalPrediction(sigma=0.5, convention='mean')")
    assert qt.UniformPrediction(0.3) == qt.UniformPrediction(0.3)
    assert qt.UniformPrediction(0.3) != qt.UniformPrediction(0.4)
